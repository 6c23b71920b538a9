using Microsoft.ML.OnnxRuntime;
using SharpNas.Engine;
using SharpNas.Engine.Autograd;
using SharpNas.Engine.IO;
using SharpNas.Engine.Models;
using SharpNas.Engine.Modules;
using SharpNas.Search.Export;
using SharpNas.Search.Spaces.NasNet;
using SharpNas.Search.Spaces.StageWise;
using SharpNas.Training;

namespace SharpNas.Tests.Reports;

/// <summary>Exported ONNX models run in ONNX Runtime and give SharpNas's eval-mode logits.</summary>
[Collection(ReportRunsCollection.Name)]
public sealed class OnnxExportTests(ReportRuns runs)
{
    public static TheoryData<int[], int, ShortcutKind> Networks => new()
    {
        { [3, 3, 3], 16, ShortcutKind.ZeroPad },      // ResNet-20
        { [1, 2, 1], 4, ShortcutKind.ZeroPad },       // a stage-wise candidate
        { [2, 1], 6, ShortcutKind.Projection },
    };

    [Theory]
    [MemberData(nameof(Networks))]
    public void ExportedResNet_MatchesSharpNasLogitsInOnnxRuntime(int[] depths, int width, ShortcutKind shortcut)
    {
        var genotype = new StageGenotype(StageModule.Basic, depths, width, shortcut);
        var spec = new InputSpec(3, 16, 16, 10);
        Module<Tensor, Tensor> model = genotype.Build(spec);
        var rng = new SeededRandom(11);
        model.Initialize(rng);
        Randomize(model, rng);   // non-trivial BN statistics and affine parameters
        model.Eval();

        byte[] onnx = OnnxExport.ToOnnx(genotype, model.StateDict().ToDictionary(t => t.Name, t => t.Tensor));
        float[] x = RandomInput(rng, 2 * 3 * 16 * 16);
        float[] expected = Logits(model, x, [2, 3, 16, 16]);
        float[] actual = RunOnnx(onnx, x, [2, 3, 16, 16]);
        AssertClose(expected, actual);
    }

    [Fact]
    public void ExportCommand_WritesAnOnnxFileOfATrainRunThatOnnxRuntimeRuns()
    {
        string file = Path.Combine(runs.Root, "tiny.onnx");
        Assert.Equal(0, SharpNas.Cli.Program.Main(["export", runs.TrainDir, "--onnx", "--out", file]));
        var model = ReportRuns.Tiny.Build(new InputSpec(1, 8, 8, 3));
        model.LoadStateDict(Safetensors.Load(Path.Combine(runs.TrainDir, "model.safetensors")).ByName);
        model.Eval();
        float[] x = RandomInput(new SeededRandom(5), 3 * 1 * 8 * 8);
        AssertClose(Logits(model, x, [3, 1, 8, 8]), RunOnnx(File.ReadAllBytes(file), x, [3, 1, 8, 8]));
    }

    [Fact]
    public void Export_RejectsAnUnsupportedArchitectureAndAFolderWithoutWeights()
    {
        var nasnet = NasNetGenotype.NasNetA(2, 48);
        var e = Assert.Throws<ArgumentException>(() => OnnxExport.ToOnnx(nasnet, new Dictionary<string, Tensor>()));
        Assert.Contains("nasnet", e.Message);
        string empty = Path.Combine(runs.Root, "no-weights");
        Directory.CreateDirectory(empty);
        Assert.Equal(2, SharpNas.Cli.Program.Main(["export", empty, "--onnx"]));
        Assert.Empty(Directory.GetFiles(empty));
    }

    private static void Randomize(Module model, SeededRandom rng)
    {
        foreach ((string name, Tensor t) in model.StateDict())
        {
            Span<float> s = t.Span;
            if (name.EndsWith("running_var", StringComparison.Ordinal)) for (int i = 0; i < s.Length; i++) s[i] = 0.5f + rng.NextFloat();
            else if (name.EndsWith("running_mean", StringComparison.Ordinal) || name.Contains(".bn") && name.EndsWith("bias", StringComparison.Ordinal))
                for (int i = 0; i < s.Length; i++) s[i] = 0.2f * (rng.NextFloat() - 0.5f);
            else if (name.Contains("bn") && name.EndsWith("weight", StringComparison.Ordinal)) for (int i = 0; i < s.Length; i++) s[i] = 0.5f + rng.NextFloat();
        }
    }

    private static float[] RandomInput(SeededRandom rng, int n)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)rng.NextNormal();
        return x;
    }

    private static float[] Logits(Module<Tensor, Tensor> model, float[] x, int[] shape)
    {
        using var _ = GradMode.NoGrad();
        return model.Forward(Tensor.FromArray((float[])x.Clone(), shape)).ToArray();
    }

    private static float[] RunOnnx(byte[] onnx, float[] x, long[] shape)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(onnx, options);
        using var input = OrtValue.CreateTensorValueFromMemory(x, shape);
        using var runOptions = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> outputs = session.Run(runOptions, ["input"], [input], ["logits"]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        float scale = expected.Max(MathF.Abs);
        Assert.True(scale > 0, "all logits are zero; the comparison would prove nothing");
        for (int i = 0; i < expected.Length; i++)
            Assert.True(MathF.Abs(expected[i] - actual[i]) <= 1e-4f * scale,
                $"logit {i}: SharpNas {expected[i]}, ONNX Runtime {actual[i]} (max |logit| {scale})");
    }
}
