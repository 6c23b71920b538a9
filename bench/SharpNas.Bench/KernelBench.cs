using System.Diagnostics;
using System.Globalization;
using SharpNas.Engine;
using SharpNas.Engine.Kernels;

namespace SharpNas.Bench;

/// <summary>`kernels`: times each conv / batch-norm kernel of the ResNet-20 layer shapes and NASNet-like pooling
/// (batch 128 by default) on the active kernel set, one JSON line per kernel and shape, so a change to one kernel can be measured on its own.</summary>
internal static class KernelBench
{
    public static int Run(BenchOptions options)
    {
        int batch = options.Int("batch", 128);
        int threads = options.Int("threads", Engine.Parallel.WorkerPool.ThreadCountFromEnvironment());
        int reps = options.Int("reps", 10);
        Environment.SetEnvironmentVariable(Engine.Parallel.WorkerPool.ThreadsVariable, threads.ToString(CultureInfo.InvariantCulture));
        KernelSet k = KernelSet.Active;
        var rng = new SeededRandom(3);
        // (Cin, Cout, H, stride, kernel, groups): ResNet-20's three 3×3 shapes, its stride-2 entry, and a NASNet-like
        // 5×5 depthwise and 1×1 pointwise pair, and the narrowest and the smallest-plane NASNet 1×1 convs.
        (int Cin, int Cout, int H, int Stride, int K, int Groups)[] shapes =
            [(16, 16, 32, 1, 3, 1), (32, 32, 16, 1, 3, 1), (64, 64, 8, 1, 3, 1), (16, 32, 32, 2, 3, 1), (32, 32, 32, 1, 5, 32), (32, 32, 32, 2, 5, 32), (32, 32, 32, 1, 1, 1), (16, 16, 32, 1, 1, 1), (64, 64, 8, 1, 1, 1)];
        foreach (var s in shapes)
        {
            int pad = s.K / 2;
            ConvGeometry g = ConvGeometry.Create("bench", [batch, s.Cin, s.H, s.H], [s.Cout, s.Cin / s.Groups, s.K, s.K], s.Stride, s.Stride, pad, pad, pad, pad, 1, 1, s.Groups);
            float[] x = Random(rng, batch * s.Cin * s.H * s.H), w = Random(rng, s.Cout * (s.Cin / s.Groups) * s.K * s.K);
            float[] y = new float[batch * s.Cout * g.OH * g.OW], dx = new float[x.Length], dw = new float[w.Length];
            string shape = $"{s.Cin}x{s.H}x{s.H}->{s.Cout} k{s.K} s{s.Stride} g{s.Groups}";
            double flops = 2.0 * g.Macs;
            Report("conv_forward", shape, flops, reps, () => k.Conv2dForward(g, x, w, default, y), threads, k.Name);
            Report("conv_backward_input", shape, flops, reps, () => k.Conv2dBackwardInput(g, y, w, dx), threads, k.Name);
            if (s.Groups > 1)   // the form a fresh gradient takes: written, not added (depthwise since session 9)
                Report("conv_backward_input_store", shape, flops, reps, () => k.Conv2dBackwardInputStore(g, y, w, dx), threads, k.Name);
            Report("conv_backward_weight", shape, flops, reps, () => k.Conv2dBackwardWeight(g, x, y, dw), threads, k.Name);
            if (s.Groups == 1 && s.Stride == 1 && s.K == 3)
            {
                int c = s.Cout, hw = g.OH * g.OW;
                float[] gamma = Random(rng, c), beta = Random(rng, c), mean = new float[c], inv = new float[c], dg = new float[c], db = new float[c];
                Report("bn_forward", $"{c}x{g.OH}x{g.OW}", 0, reps, () => k.BatchNormTrainForward(batch, c, hw, y, gamma, beta, 1e-5f, dx.AsSpan(0, y.Length), mean, inv), threads, k.Name);
                Report("bn_backward", $"{c}x{g.OH}x{g.OW}", 0, reps, () => k.BatchNormTrainBackward(batch, c, hw, y, y, gamma, mean, inv, dx.AsSpan(0, y.Length), dg, db), threads, k.Name);
            }
        }
        // NASNet-like 3×3 pooling, stride 1 (normal cells) and 2 (reduction cells), padding 1.
        foreach (int stride in new[] { 1, 2 })
        {
            PoolGeometry g = PoolGeometry.Create("bench", [batch, 32, 32, 32], 3, 3, stride, stride, 1, 1, 1, 1, countIncludePad: false);
            float[] x = Random(rng, batch * 32 * 32 * 32), y = new float[batch * 32 * g.OH * g.OW], dx = new float[x.Length];
            string shape = $"32x32x32 k3 s{stride}";
            Report("maxpool_forward", shape, 0, reps, () => k.MaxPool2dForward(g, x, y), threads, k.Name);
            Report("maxpool_backward", shape, 0, reps, () => k.MaxPool2dBackward(g, x, y, dx), threads, k.Name);
            Report("avgpool_forward", shape, 0, reps, () => k.AvgPool2dForward(g, x, y), threads, k.Name);
            Report("avgpool_backward", shape, 0, reps, () => k.AvgPool2dBackward(g, y, dx), threads, k.Name);
        }
        return 0;
    }

    private static void Report(string kernel, string shape, double flops, int reps, Action once, int threads, string kernels)
    {
        var warm = Stopwatch.StartNew();
        for (int i = 0; i < 2 || warm.Elapsed.TotalSeconds < 0.3; i++) once();
        var seconds = new double[reps];
        var cpu = new double[reps];
        for (int r = 0; r < reps; r++)
        {
            long t0 = Stopwatch.GetTimestamp();
            double c0 = ThreadCpuSeconds();
            once();
            cpu[r] = ThreadCpuSeconds() - c0;
            seconds[r] = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        }
        Array.Sort(cpu);
        Array.Sort(seconds);
        double median = seconds[reps / 2];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"kernel\":\"{kernel}\",\"shape\":\"{shape}\",\"ms\":{median * 1e3:F2},\"min_ms\":{seconds[0] * 1e3:F2},\"cpu_ms\":{cpu[0] * 1e3:F2},\"gflops\":{flops / median / 1e9:F1},\"threads\":{threads},\"kernels\":\"{kernels}\"}}"));
    }

    /// <summary>CPU time of the calling thread (Linux; 0 elsewhere): with one thread, the kernel's work without the
    /// time other processes held the core.</summary>
    private static double ThreadCpuSeconds()
    {
        if (!OperatingSystem.IsLinux()) return 0;
        ClockGetTime(3 /* CLOCK_THREAD_CPUTIME_ID */, out TimeSpec t);
        return t.Seconds + t.Nanoseconds * 1e-9;
    }

    private struct TimeSpec { public long Seconds; public long Nanoseconds; }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    private static float[] Random(SeededRandom rng, int count)
    {
        var v = new float[count];
        for (int i = 0; i < v.Length; i++) v[i] = rng.NextFloat() * 2 - 1;
        return v;
    }
}
