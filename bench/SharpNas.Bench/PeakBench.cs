using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SharpNas.Bench;

/// <summary>`peak`: the machine's float32 FMA peak, measured. Each thread runs 12 independent FMA chains (enough to
/// hide the FMA latency on two pipes) on 256-bit and on 512-bit vectors, all threads at once. The two widths tell a
/// CPU with full-width 512-bit FMA units (512-bit ≈ 2× 256-bit) from one that splits 512-bit work in two halves
/// (≈ 1×), which sets how far any conv kernel, ours or oneDNN's, can go on this machine.</summary>
internal static class PeakBench
{
    private const int Chains = 12;

    public static int Run(BenchOptions options)
    {
        int threads = options.Int("threads", Engine.Parallel.WorkerPool.ThreadCountFromEnvironment());
        int reps = options.Int("reps", 7);
        foreach (int width in new[] { 256, 512 })
        {
            if (width == 512 && !Vector512.IsHardwareAccelerated) continue;
            if (width == 256 && !Vector256.IsHardwareAccelerated) continue;
            var wall = new double[reps];
            for (int r = 0; r < reps; r++) wall[r] = Measure(width, threads);
            Array.Sort(wall);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{{\"workload\":\"fma_peak\",\"vector_bits\":{width},\"gflops\":{wall[reps - 1]:F1},\"median_gflops\":{wall[reps / 2]:F1},\"threads\":{threads}}}"));
        }
        return 0;
    }

    /// <summary>GFLOP/s of all threads together for one timed round (the best of the rounds is the peak).</summary>
    private static double Measure(int width, int threads)
    {
        const long iterations = 20_000_000;
        using var start = new Barrier(threads + 1);
        var workers = new Thread[threads];
        float sink = 0;
        for (int t = 0; t < threads; t++)
        {
            workers[t] = new Thread(() =>
            {
                Run(width, 1000); // JIT and warm the pipes
                start.SignalAndWait();
                float s = Run(width, iterations);
                Interlocked.Exchange(ref sink, s);
            });
            workers[t].Start();
        }
        start.SignalAndWait();
        long t0 = Stopwatch.GetTimestamp();
        foreach (var w in workers) w.Join();
        double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        GC.KeepAlive(sink);
        double flopsPerIteration = Chains * 2.0 * width / 32;
        return threads * iterations * flopsPerIteration / seconds / 1e9;
    }

    private static float Run(int width, long iterations) =>
        width == 512 ? Chains512(iterations) : Chains256(iterations);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Chains256(long iterations)
    {
        Vector256<float> m = Vector256.Create(0.999999f), a = Vector256.Create(1e-7f);
        Vector256<float> c0 = Vector256.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
        Vector256<float> c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector256.FusedMultiplyAdd(c0, m, a); c1 = Vector256.FusedMultiplyAdd(c1, m, a);
            c2 = Vector256.FusedMultiplyAdd(c2, m, a); c3 = Vector256.FusedMultiplyAdd(c3, m, a);
            c4 = Vector256.FusedMultiplyAdd(c4, m, a); c5 = Vector256.FusedMultiplyAdd(c5, m, a);
            c6 = Vector256.FusedMultiplyAdd(c6, m, a); c7 = Vector256.FusedMultiplyAdd(c7, m, a);
            c8 = Vector256.FusedMultiplyAdd(c8, m, a); c9 = Vector256.FusedMultiplyAdd(c9, m, a);
            c10 = Vector256.FusedMultiplyAdd(c10, m, a); c11 = Vector256.FusedMultiplyAdd(c11, m, a);
        }
        return Vector256.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Chains512(long iterations)
    {
        Vector512<float> m = Vector512.Create(0.999999f), a = Vector512.Create(1e-7f);
        Vector512<float> c0 = Vector512.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
        Vector512<float> c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector512.FusedMultiplyAdd(c0, m, a); c1 = Vector512.FusedMultiplyAdd(c1, m, a);
            c2 = Vector512.FusedMultiplyAdd(c2, m, a); c3 = Vector512.FusedMultiplyAdd(c3, m, a);
            c4 = Vector512.FusedMultiplyAdd(c4, m, a); c5 = Vector512.FusedMultiplyAdd(c5, m, a);
            c6 = Vector512.FusedMultiplyAdd(c6, m, a); c7 = Vector512.FusedMultiplyAdd(c7, m, a);
            c8 = Vector512.FusedMultiplyAdd(c8, m, a); c9 = Vector512.FusedMultiplyAdd(c9, m, a);
            c10 = Vector512.FusedMultiplyAdd(c10, m, a); c11 = Vector512.FusedMultiplyAdd(c11, m, a);
        }
        return Vector512.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }
}
