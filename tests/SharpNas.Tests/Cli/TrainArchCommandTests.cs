using System.Text.Json.Nodes;
using SharpNas.Search.Genotypes;
using SharpNas.Search.Spaces.Epnas;
using SharpNas.Search.Spaces.NasNet;
using SharpNas.Search.Spaces.StageWise;
using SharpNas.Search.Strategies.Epnas;
using SharpNas.Tests.Data;
using SharpNas.Training;

namespace SharpNas.Tests.Cli;

/// <summary><c>sharpnas train --arch FILE.json</c> with the architecture file of every kind a search writes.</summary>
public sealed class TrainArchCommandTests : IDisposable
{
    private readonly TestFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    /// <summary>A small architecture of each kind <see cref="ArchitectureJson"/> reads. A kind added there without a sample
    /// here fails <see cref="EveryKindHasASample"/>. (NASNet without its auxiliary head: it needs 5×5 maps at the 2/3 point, the
    /// test images are 8×8.)</summary>
    private static readonly IReadOnlyDictionary<string, IArchitecture> Samples = new Dictionary<string, IArchitecture>
    {
        [StageGenotype.KindName] = new StageGenotype(StageModule.Basic, [1, 1], Width: 4),
        [NasNetGenotype.KindName] = NasNetGenotype.NasNetA(cellsPerStage: 1, penultimateFilters: 48, auxHead: false, dropPathKeepProb: 0.6),
        [EpnasLayerGenotype.KindName] = EpnasSeeds.MinimalLayerNetwork(),
        [EpnasModuleGenotype.KindName] = EpnasSeeds.MinimalCell(cellsPerStage: 1, stages: 2, filters: 4),
    };

    public static TheoryData<string> Kinds() => new(ArchitectureJson.Kinds);

    [Fact]
    public void EveryKindHasASample() => Assert.Equal(ArchitectureJson.Kinds.Order(), Samples.Keys.Order());

    [Theory]
    [MemberData(nameof(Kinds))]
    public void TrainArch_TrainsOneEpochOfEveryKind(string kind)
    {
        Assert.True(Samples.TryGetValue(kind, out IArchitecture? architecture), $"no sample architecture of kind {kind}");
        string archFile = Path.Combine(_folder.Path, kind + ".json");
        ArchitectureJson.Save(architecture, archFile);
        string data = TinyNpy.Write(Path.Combine(_folder.Path, "data"), train: 32, test: 12);
        string dir = Path.Combine(_folder.Path, "run-" + kind);
        Assert.Equal(0, SharpNas.Cli.Program.Main(["train", "--arch", archFile, "--data", data, "--epochs", "1", "--batch", "16",
            "--lr", "0.02", "--latency-runs", "0", "--out", dir]));
        JsonObject metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "metrics.json")))!.AsObject();
        Assert.Equal(architecture.Describe(), metrics["architecture"]!.GetValue<string>());
        Assert.InRange(metrics["test_accuracy"]!.GetValue<double>(), 0, 1);
        Assert.Equal(architecture.Cost(new InputSpec(1, 8, 8, 3)).Parameters, metrics["parameters"]!.GetValue<long>());
        // The run's own arch.json is the same architecture, so it can be trained again elsewhere.
        Assert.Equal(architecture.ToJson().ToJsonString(), ArchitectureJson.Load(Path.Combine(dir, "arch.json")).ToJson().ToJsonString());
        Assert.Contains($"sharpnas train --arch {archFile}", File.ReadAllText(Path.Combine(dir, "report.html")));
    }

    [Fact]
    public void ArchFoundOnGrayscaleData_TrainsOnColourDataWithMoreClasses()
    {
        string archFile = Path.Combine(_folder.Path, "found.json");
        ArchitectureJson.Save(Samples[EpnasLayerGenotype.KindName], archFile);
        string grey = TinyNpy.Write(Path.Combine(_folder.Path, "grey"), train: 32, test: 12);
        string colour = TinyNpy.Write(Path.Combine(_folder.Path, "colour"), train: 40, test: 15, channels: 3, classes: 5);
        Assert.Equal(0, SharpNas.Cli.Program.Main(["train", "--arch", archFile, "--data", grey, "--epochs", "1", "--batch", "16", "--latency-runs", "0",
            "--out", Path.Combine(_folder.Path, "a")]));
        string dir = Path.Combine(_folder.Path, "b");
        Assert.Equal(0, SharpNas.Cli.Program.Main(["train", "--arch", Path.Combine(_folder.Path, "a", "arch.json"), "--data", colour, "--epochs", "1",
            "--batch", "16", "--latency-runs", "0", "--out", dir]));
        JsonObject metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "metrics.json")))!.AsObject();
        Assert.Equal(Samples[EpnasLayerGenotype.KindName].Cost(new InputSpec(3, 8, 8, 5)).Parameters, metrics["parameters"]!.GetValue<long>());
        Assert.Equal(3, metrics["normalization"]!["mean"]!.AsArray().Count);
    }

    [Fact]
    public void LabelSmoothingAndCutout_ReachTheTrainerAndIdentifyTheRun()
    {
        string archFile = Path.Combine(_folder.Path, "tiny.json");
        ArchitectureJson.Save(Samples[StageGenotype.KindName], archFile);
        string data = TinyNpy.Write(Path.Combine(_folder.Path, "data"), train: 32, test: 12);
        string dir = Path.Combine(_folder.Path, "regularised");
        string[] common = ["train", "--arch", archFile, "--data", data, "--epochs", "1", "--batch", "16", "--latency-runs", "0"];
        Assert.Equal(0, SharpNas.Cli.Program.Main([.. common, "--label-smoothing", "0.2", "--cutout", "4", "--out", dir]));
        JsonObject options = JsonNode.Parse(JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "metrics.json")))!["fingerprint"]!.GetValue<string>())!["options"]!.AsObject();
        Assert.Equal(0.2, options["LabelSmoothing"]!.GetValue<double>(), 6);
        Assert.Equal(4, options["Augmentation"]!["CutoutSize"]!.GetValue<int>());
        Assert.Equal(2, options["Augmentation"]!["Padding"]!.GetValue<int>());   // the grayscale default, plus the cutout

        Assert.Equal(2, SharpNas.Cli.Program.Main([.. common, "--label-smoothing", "1", "--out", Path.Combine(_folder.Path, "bad1")]));
        Assert.Equal(2, SharpNas.Cli.Program.Main([.. common, "--cutout", "9", "--out", Path.Combine(_folder.Path, "bad2")]));
        Assert.False(File.Exists(Path.Combine(_folder.Path, "bad2", "metrics.json")));
    }

    [Fact]
    public void TrainArch_WithABadFile_IsExitCodeTwo()
    {
        string bad = Path.Combine(_folder.Path, "bad.json");
        File.WriteAllText(bad, "{\"kind\": \"hypernet\"}");
        Assert.Equal(2, SharpNas.Cli.Program.Main(["train", "--arch", bad, "--epochs", "1"]));
        Assert.Equal(2, SharpNas.Cli.Program.Main(["train", "--arch", Path.Combine(_folder.Path, "none.json"), "--epochs", "1"]));
    }
}
