using Microsoft.ML.OnnxRuntime;
using SharpNas.Data;
using SharpNas.Engine;
using SharpNas.Engine.Autograd;
using SharpNas.Engine.Modules;
using SharpNas.Search.Export;

namespace SharpNas.Tests.Export;

/// <summary>Runs exported models in ONNX Runtime and the same networks in SharpNas, and compares their logits.</summary>
internal static class OnnxTestKit
{
    /// <summary>CIFAR-like per-channel statistics for 3 channels, else mean 0.3, std 0.2 per channel.</summary>
    public static ChannelStatistics Normalization(int channels) => channels == 3
        ? new ChannelStatistics([0.49f, 0.48f, 0.45f], [0.25f, 0.24f, 0.26f])
        : new ChannelStatistics(Enumerable.Repeat(0.3f, channels).ToArray(), Enumerable.Repeat(0.2f, channels).ToArray());

    /// <summary>Gives BN layers non-trivial running statistics and affine parameters (and nudges every bias), so the
    /// export has to carry them all.</summary>
    public static void Randomize(Module model, SeededRandom rng)
    {
        foreach ((string path, Module m) in model.NamedModules())
        {
            if (m is BatchNorm2d bn)
            {
                Fill(bn.RunningVar.Span, () => 0.5f + rng.NextFloat());
                Fill(bn.RunningMean.Span, () => 0.4f * (rng.NextFloat() - 0.5f));
                if (bn.Weight is not null) Fill(bn.Weight.Span, () => 0.5f + rng.NextFloat());
                if (bn.Bias is not null) Fill(bn.Bias.Span, () => 0.4f * (rng.NextFloat() - 0.5f));
            }
            else if (m is Conv2d { Bias: { } b }) Fill(b.Span, () => 0.2f * (rng.NextFloat() - 0.5f));
        }
    }

    private static void Fill(Span<float> s, Func<float> next)
    {
        for (int i = 0; i < s.Length; i++) s[i] = next();
    }

    /// <summary>n uniform pixels in [0, 1].</summary>
    public static float[] Pixels(SeededRandom rng, int n)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = rng.NextFloat();
        return x;
    }

    /// <summary>SharpNas's eval-mode logits for [0, 1] pixels, normalised as training would.</summary>
    public static float[] SharpNasLogits(Module<Tensor, Tensor> model, float[] pixels, int[] shape, ChannelStatistics? normalization)
    {
        float[] x = (float[])pixels.Clone();
        if (normalization is not null)
        {
            int plane = shape[2] * shape[3];
            for (int i = 0; i < x.Length; i++)
            {
                int c = i / plane % shape[1];
                x[i] = (x[i] - normalization.Mean[c]) / normalization.Std[c];
            }
        }
        model.Eval();
        using var _ = GradMode.NoGrad();
        return model.Forward(Tensor.FromArray(x, shape)).ToArray();
    }

    /// <summary>ONNX Runtime's output <c>logits</c> for <paramref name="x"/> (one intra-op thread).</summary>
    public static float[] OrtLogits(byte[] onnx, float[] x, long[] shape)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(onnx, options);
        return Run(session, x, shape);
    }

    /// <summary>Runs an open session.</summary>
    public static float[] Run(InferenceSession session, float[] x, long[] shape)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(x, shape);
        using var runOptions = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> outputs = session.Run(runOptions, [OnnxExport.InputName], [input], [OnnxExport.OutputName]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>Every logit within 1e-4 × max |logit| of SharpNas's.</summary>
    public static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        float scale = expected.Max(MathF.Abs);
        Assert.True(scale > 1e-3f, $"{what}: all logits are ~0; the comparison would prove nothing");
        Assert.All(expected, v => Assert.True(float.IsFinite(v), $"{what}: SharpNas logit {v}"));
        for (int i = 0; i < expected.Length; i++)
            Assert.True(MathF.Abs(expected[i] - actual[i]) <= 1e-4f * scale,
                $"{what}: logit {i}: SharpNas {expected[i]}, ONNX Runtime {actual[i]} (max |logit| {scale})");
    }
}
