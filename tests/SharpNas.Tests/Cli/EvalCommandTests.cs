using System.Text.Json;
using System.Text.Json.Nodes;
using SharpNas.Engine.IO;
using SharpNas.Search.Genotypes;
using SharpNas.Search.Spaces.StageWise;
using SharpNas.Training;

namespace SharpNas.Tests.Cli;

/// <summary>A tiny network trained once by <c>sharpnas train</c> (1 epoch, validation carved from the training set),
/// for the eval tests.</summary>
public sealed class EvalRun : IDisposable
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "sharpnas-eval-" + Guid.NewGuid().ToString("N"));
    public string Data { get; }
    public string RunDir => Path.Combine(Root, "run");
    public JsonObject Metrics { get; }

    public EvalRun()
    {
        Data = TinyNpy.Write(Path.Combine(Root, "data"));
        int code = SharpNas.Cli.Program.Main(["train", "--model", "resnet8", "--data", Data, "--epochs", "1", "--batch", "16", "--lr", "0.05",
            "--val-size", "12", "--seed", "3", "--latency-runs", "0", "--out", RunDir]);
        if (code != 0) throw new InvalidOperationException($"sharpnas train exited with {code}");
        Metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(RunDir, "metrics.json")))!.AsObject();
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

public sealed class EvalCommandTests(EvalRun run) : IClassFixture<EvalRun>
{
    private static int Run(params string[] args) => SharpNas.Cli.Program.Main(args);

    private string Weights => Path.Combine(run.RunDir, "model.safetensors");
    private string Arch => Path.Combine(run.RunDir, "arch.json");
    private string OutFile(string name) => Path.Combine(run.Root, name + "-" + Guid.NewGuid().ToString("N")[..6] + ".json");

    private static JsonObject Read(string path) => JsonNode.Parse(File.ReadAllText(path))!.AsObject();

    [Fact]
    public void Eval_ReproducesExactlyTheTestAccuracyAndLossTrainWrote()
    {
        string outFile = OutFile("test");
        Assert.Equal(0, Run("eval", "--arch", Arch, "--weights", Weights, "--data", run.Data, "--latency-runs", "1", "--out", outFile));
        JsonObject r = Read(outFile);
        Assert.Equal(24, r["images"]!.GetValue<int>());
        Assert.Equal(run.Metrics["test_accuracy"]!.GetValue<double>(), r["accuracy"]!.GetValue<double>());
        Assert.Equal(run.Metrics["test_loss"]!.GetValue<double>(), r["loss"]!.GetValue<double>());
        Assert.Equal(run.Metrics["parameters"]!.GetValue<long>(), r["parameters"]!.GetValue<long>());
        Assert.Equal(run.Metrics["macs"]!.GetValue<long>(), r["macs"]!.GetValue<long>());
        Assert.True(r["latency_ms"]!["batch_1"]!.GetValue<double>() > 0);
        Assert.Equal("model.safetensors", r["normalization_source"]!.GetValue<string>());
    }

    [Fact]
    public void Eval_OnTheValidationSplit_ReproducesTheValidationAccuracy()
    {
        string outFile = OutFile("valid");
        // No --arch: the architecture recorded in the weights is used.
        Assert.Equal(0, Run("eval", "--weights", Weights, "--data", run.Data, "--split", "valid", "--val-size", "12", "--seed", "3",
            "--latency-runs", "0", "--out", outFile));
        JsonObject r = Read(outFile);
        Assert.Equal(12, r["images"]!.GetValue<int>());
        Assert.Equal(run.Metrics["validation_accuracy"]!.GetValue<double>(), r["accuracy"]!.GetValue<double>());
        Assert.Equal(run.Metrics["validation_loss"]!.GetValue<double>(), r["loss"]!.GetValue<double>());
    }

    [Fact]
    public void TrainRecordsItsNormalization_InMetricsAndInTheWeights()
    {
        var recorded = JsonSerializer.Deserialize<RunMetrics>(run.Metrics.ToJsonString(), RunMetrics.JsonOptions)!.Normalization;
        Assert.NotNull(recorded);
        SafetensorsFile file = Safetensors.Load(Weights);
        var fromWeights = WeightsMetadata.ReadNormalization(file.Metadata, Weights)!;
        Assert.Equal(recorded.Mean, fromWeights.Mean);
        Assert.Equal(recorded.Std, fromWeights.Std);
        Assert.InRange(recorded.Mean[0], 0.05f, 0.95f);   // statistics of real pixels, not the identity
        Assert.NotEqual(1f, recorded.Std[0]);
    }

    [Fact]
    public void MetricsWithoutNormalization_StillRead()
    {
        JsonObject old = (JsonObject)run.Metrics.DeepClone();
        old.Remove("normalization");
        RunMetrics m = JsonSerializer.Deserialize<RunMetrics>(old.ToJsonString(), RunMetrics.JsonOptions)!;
        Assert.Null(m.Normalization);
        Assert.Equal(run.Metrics["test_accuracy"]!.GetValue<double>(), m.TestAccuracy);
    }

    [Fact]
    public void WeightsThatDoNotFit_ListEveryMismatchInOneLine_AndExitWithTwo()
    {
        // Deeper and wider than the trained [1, 1, 1] × 16: extra blocks are missing, every conv is misshapen.
        string other = Path.Combine(run.Root, "other-arch.json");
        ArchitectureJson.Save(new StageGenotype(StageModule.Basic, [2, 1, 1], Width: 8), other);
        string outFile = OutFile("bad");
        Assert.Equal(2, Run("eval", "--arch", other, "--weights", Weights, "--data", run.Data, "--latency-runs", "0", "--out", outFile));
        Assert.False(File.Exists(outFile));
        Assert.False(File.Exists(outFile + ".tmp"));

        var e = Assert.Throws<InvalidDataException>(() =>
            SavedModel.Load(ArchitectureJson.Load(other), Weights, new InputSpec(1, 8, 8, 3)));
        Assert.DoesNotContain('\n', e.Message);
        Assert.Contains("missing layer1.1.conv1.weight", e.Message);
        Assert.Contains("conv1.weight: file has [16, 1, 3, 3], model has [8, 1, 3, 3]", e.Message);
        Assert.Contains(Weights, e.Message);
    }

    [Fact]
    public void WeightsWithNamesTheArchitectureLacks_AreListedAsUnexpected()
    {
        string smaller = Path.Combine(run.Root, "smaller-arch.json");
        ArchitectureJson.Save(new StageGenotype(StageModule.Basic, [1, 1], Width: 16), smaller);
        var e = Assert.Throws<InvalidDataException>(() =>
            SavedModel.Load(ArchitectureJson.Load(smaller), Weights, new InputSpec(1, 8, 8, 3)));
        Assert.Contains("unexpected layer3.0.conv1.weight", e.Message);
    }

    [Fact]
    public void BadInput_IsExitCodeTwo()
    {
        Assert.Equal(2, Run("eval", "--arch", Arch, "--weights", Path.Combine(run.Root, "none.safetensors"), "--data", run.Data));
        Assert.Equal(2, Run("eval", "--arch", Path.Combine(run.Root, "none.json"), "--weights", Weights, "--data", run.Data));
        Assert.Equal(2, Run("eval", "--arch", Arch, "--weights", Weights, "--data", run.Data, "--split", "train"));
        Assert.Equal(2, Run("eval", "--arch", Arch, "--weights", Weights, "--data", run.Data, "--split", "valid"));
        Assert.Equal(2, Run("eval", "--arch", Arch, "--weights", Weights, "--data", "nosuchset:/x"));
        Assert.Equal(2, Run("eval", "--arch", Arch));   // --weights is required
        string notWeights = Path.Combine(run.Root, "garbage.safetensors");
        File.WriteAllText(notWeights, "not a safetensors file at all");
        Assert.Equal(2, Run("eval", "--arch", Arch, "--weights", notWeights, "--data", run.Data));
    }
}
