using System.Diagnostics;
using SharpNas.Engine;
using SharpNas.Engine.Autograd;
using SharpNas.Engine.Modules;

namespace SharpNas.Training.Cost;

/// <summary>Measures inference latency: the median of repeated forward passes in evaluation mode, after warm-up.</summary>
public static class LatencyMeter
{
    /// <summary>Median milliseconds of one forward pass of a batch of <paramref name="batch"/> random images.</summary>
    public static double MedianMilliseconds(Module<Tensor, Tensor> model, InputSpec input, int batch, int runs, int warmup = 2)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(runs);
        bool wasTraining = model.Training;
        model.Eval();
        var pool = new TensorPool();
        var rng = new SeededRandom(12345);
        float[] data = new float[batch * input.Channels * input.Height * input.Width];
        for (int i = 0; i < data.Length; i++) data[i] = (float)rng.NextNormal();
        Tensor x = Tensor.FromArray(data, batch, input.Channels, input.Height, input.Width);
        var times = new double[runs];
        using (GradMode.NoGrad())
        {
            for (int r = -warmup; r < runs; r++)
            {
                using var step = pool.BeginStep();
                long t0 = Stopwatch.GetTimestamp();
                model.Forward(x);
                if (r >= 0) times[r] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            }
        }
        model.Train(wasTraining);
        Array.Sort(times);
        return runs % 2 == 1 ? times[runs / 2] : (times[runs / 2 - 1] + times[runs / 2]) / 2;
    }
}
