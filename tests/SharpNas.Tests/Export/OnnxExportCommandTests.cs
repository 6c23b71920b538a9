using System.Text.Json.Nodes;
using SharpNas.Data;
using SharpNas.Engine;
using SharpNas.Engine.Functional;
using SharpNas.Engine.IO;
using SharpNas.Engine.Models;
using SharpNas.Engine.Modules;
using SharpNas.Search.Export;
using SharpNas.Search.Spaces.StageWise;
using SharpNas.Tests.Training;
using SharpNas.Training;
using SharpNas.Training.Cost;

namespace SharpNas.Tests.Export;

/// <summary>A finished tiny train run folder shared by the export command tests.</summary>
public sealed class ExportRun : IDisposable
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "sharpnas-export-" + Guid.NewGuid().ToString("N"));
    public string RunDir => Path.Combine(Root, "train");
    public ImageDataset Train { get; } = TinyData.Make(48, channels: 2, size: 8);
    public static StageGenotype Tiny { get; } = new(StageModule.Basic, [1, 1], Width: 4);

    public ExportRun()
    {
        var data = new TrainingData(Train, null, TinyData.Make(12, channels: 2, size: 8, seed: 3));
        var options = new TrainerOptions { Epochs = 1, BatchSize = 16, LearningRate = 0.05, Seed = 7, Augmentation = AugmentationOptions.Grayscale };
        TrainingRun.Execute(Tiny, data, "tiny", options, RunDir, new CostSettings { LatencyRuns = 0 });
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary><c>sharpnas export</c> and <see cref="OnnxExport"/> on run folders and files: what is written, and the
/// one-line errors (exit code 2, nothing left behind) on bad input.</summary>
public sealed class OnnxExportCommandTests(ExportRun run) : IClassFixture<ExportRun>
{
    private static int Cli(params string[] args) => SharpNas.Cli.Program.Main(args);

    private string Out(string name)
    {
        string dir = Path.Combine(run.Root, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return Path.Combine(dir, name);
    }

    private static Module<Tensor, Tensor> Load(string weights, InputSpec input)
    {
        Module<Tensor, Tensor> model = ExportRun.Tiny.Build(input);
        model.LoadStateDict(Safetensors.Load(weights).ByName);
        return model;
    }

    [Fact]
    public void TrainingRun_RecordsInputAndNormalisationInTheWeights()
    {
        var meta = Safetensors.Load(Path.Combine(run.RunDir, "model.safetensors")).Metadata;
        Assert.Equal(new InputSpec(2, 8, 8, 3), WeightsMetadata.ReadInput(meta, "model"));
        ChannelStatistics recorded = WeightsMetadata.ReadNormalization(meta, "model")!, expected = ChannelStatistics.Compute(run.Train);
        Assert.Equal(expected.Mean, recorded.Mean);
        Assert.Equal(expected.Std, recorded.Std);
        Assert.NotEqual(0f, recorded.Mean[0]);
    }

    [Fact]
    public void ExportOfARunFolder_TakesRawPixelsAndGivesSharpNasLogits()
    {
        string file = Out("tiny.onnx");
        Assert.Equal(0, Cli("export", run.RunDir, "--onnx", file));
        Assert.False(File.Exists(file + ".tmp"));
        var input = new InputSpec(2, 8, 8, 3);
        string weights = Path.Combine(run.RunDir, "model.safetensors");
        ChannelStatistics norm = WeightsMetadata.ReadNormalization(Safetensors.Load(weights).Metadata, weights)!;
        float[] pixels = OnnxTestKit.Pixels(new SeededRandom(5), 3 * 2 * 8 * 8);
        OnnxTestKit.AssertClose(OnnxTestKit.SharpNasLogits(Load(weights, input), pixels, [3, 2, 8, 8], norm),
            OnnxTestKit.OrtLogits(File.ReadAllBytes(file), pixels, [3, 2, 8, 8]), "run folder");

        // --arch A --weights W writes the same model.
        string other = Out("same.onnx");
        Assert.Equal(0, Cli("export", "--arch", Path.Combine(run.RunDir, "arch.json"), "--weights", weights, "--onnx", other));
        Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(other));
    }

    [Fact]
    public void WeightsThatDoNotFitTheArchitecture_AreOneErrorListingNamesAndShapes_AndWriteNothing()
    {
        string arch = Out("wide.json");
        File.WriteAllText(arch, (ExportRun.Tiny with { Width = 6 }).ToJson().ToJsonString());
        string weights = Path.Combine(run.RunDir, "model.safetensors"), file = Path.ChangeExtension(arch, ".onnx");
        var e = Assert.Throws<InvalidDataException>(() => OnnxExport.ExportFiles(arch, weights, file));
        Assert.Contains("conv1.weight: file has [4, 2, 3, 3], model has [6, 2, 3, 3]", e.Message);
        Assert.Contains("fc.weight", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Equal(2, Cli("export", "--arch", arch, "--weights", weights, "--onnx", file));
        Assert.False(File.Exists(file));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(arch)!));   // only the arch file
    }

    [Fact]
    public void BadCommandLines_ExitWith2()
    {
        string empty = Path.GetDirectoryName(Out("x"))!;
        Assert.Equal(2, Cli("export", empty, "--onnx"));                                      // no weights
        Assert.Equal(2, Cli("export", run.RunDir));                                            // no format
        Assert.Equal(2, Cli("export", run.RunDir, "--arch", "a.json", "--weights", "w", "--onnx"));   // both forms
        Assert.Equal(2, Cli("export", "--arch", Path.Combine(run.RunDir, "arch.json"), "--onnx", Path.Combine(empty, "m.onnx")));   // no weights
        Assert.Empty(Directory.GetFiles(empty));
    }

    [Fact]
    public void AModuleWithoutEmitter_IsAnErrorNamingItsTypeAndPath_AndLeavesNoFile()
    {
        var arch = new MysteryArchitecture();
        var input = new InputSpec(1, 8, 8, 2);
        Module<Tensor, Tensor> model = arch.Build(input);
        var e = Assert.Throws<NotSupportedException>(() => OnnxExport.ToOnnx(arch, model, input, null));
        Assert.Contains("Mystery at \"1\"", e.Message);
        Assert.Contains("no ONNX emitter", e.Message);

        // Through a run folder: nothing written, not even the temporary file.
        string file = Out("none.onnx");
        var none = Assert.Throws<NotSupportedException>(() => OnnxExport.ExportRunFolder(run.RunDir, file, OnnxEmitterSet.Empty));
        Assert.Contains("ResNet at \"(root)\"", none.Message);
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(file)!));
    }

    [Fact]
    public void AnEmitterThatSkipsAModule_IsAnErrorNamingTheModule()
    {
        // A ResNet emitter that forgets the classifier: the graph would be wrong, so the export fails.
        var careless = OnnxEmitterSet.Default.With(new FuncOnnxEmitter<ResNet>((c, m, path, x, _) =>
            c.Graph.GlobalAveragePool(c.EmitChild(m, path, "layer2", [c.EmitChild(m, path, "layer1", [c.EmitChild(m, path, "bn1", [c.EmitChild(m, path, "conv1", x)])])]), path)));
        var e = Assert.Throws<NotSupportedException>(() => OnnxExport.ExportRunFolder(run.RunDir, Out("careless.onnx"), careless));
        Assert.Contains("Linear at \"fc\"", e.Message);
    }

    [Fact]
    public void WeightsWithoutRecordedInputOrNormalisation_ExportWithNotesAndDynamicImageSize()
    {
        string dir = Path.GetDirectoryName(Out("x"))!, weights = Path.Combine(dir, "old.safetensors");
        Module<Tensor, Tensor> model = Load(Path.Combine(run.RunDir, "model.safetensors"), new InputSpec(2, 8, 8, 3));
        Safetensors.Save(weights, model.StateDict(), new Dictionary<string, string> { ["architecture"] = ExportRun.Tiny.ToJson().ToJsonString() });
        OnnxExportResult result = OnnxExport.ExportFiles(Path.Combine(run.RunDir, "arch.json"), weights, Path.Combine(dir, "old.onnx"));
        Assert.Null(result.Normalization);
        Assert.Equal(new InputSpec(2, 32, 32, 3), result.Input);   // channels and classes from the weights
        Assert.Equal(2, result.Notes.Count);
        Assert.Contains(result.Notes, n => n.Contains("normalisation", StringComparison.Ordinal));
        float[] x = OnnxTestKit.Pixels(new SeededRandom(8), 2 * 2 * 8 * 8);   // another size than the assumed 32×32
        OnnxTestKit.AssertClose(OnnxTestKit.SharpNasLogits(model, x, [2, 2, 8, 8], null),
            OnnxTestKit.OrtLogits(File.ReadAllBytes(result.Path), x, [2, 2, 8, 8]), "old weights");
    }

    /// <summary>A module type no emitter knows.</summary>
    private sealed class Mystery : Module<Tensor, Tensor>
    {
        public override Tensor Forward(Tensor x) => F.Relu(x);
    }

    private sealed class MysteryArchitecture : IArchitecture
    {
        public string Kind => "mystery";
        public string Describe() => "mystery net";
        public JsonObject ToJson() => new() { ["kind"] = Kind };
        public Module<Tensor, Tensor> Build(InputSpec input) => new Sequential(new Conv2d(input.Channels, 4, 3, 1, 1), new Mystery());
        public ArchitectureCost Cost(InputSpec input) => throw new NotSupportedException();
    }
}
