using System.Diagnostics;
using System.Globalization;
using SharpNas.Engine;
using SharpNas.Engine.Kernels.Fast;
using SharpNas.Engine.Parallel;

namespace SharpNas.Bench;

/// <summary>Benchmarks of the engine; each command prints one JSON line.</summary>
public static class Program
{
    private const string Usage = "usage: SharpNas.Bench gemm|train-step|infer|kernels|peak [options]\n"
        + "  gemm --size N [--m M --n N --k K] [--transa] [--transb] [--threads T] [--reps R]\n"
        + "  train-step --model resnet20|resnet56|nasnet-a-2x16 [--batch 128] [--threads T] [--steps N] [--warmup W] [--profile]\n"
        + "  infer --model resnet20|resnet56|nasnet-a-2x16 [--engine sharpnas|ort] [--batch 256] [--threads T] [--steps N] [--warmup W] [--profile]\n"
        + "  kernels [--batch 128] [--threads T] [--reps R]\n"
        + "  peak [--threads T] [--reps R]";

    public static int Main(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }
        try
        {
            var options = BenchOptions.Parse(args.AsSpan(1));
            return args[0] switch
            {
                "gemm" => GemmBench.Run(options),
                "train-step" => ModelBench.TrainStep(options),
                "infer" => ModelBench.Infer(options),
                "kernels" => KernelBench.Run(options),
                "peak" => PeakBench.Run(options),
                _ => Fail($"unknown command '{args[0]}'"),
            };
        }
        catch (ArgumentException e)
        {
            return Fail(e.Message);
        }
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine(message);
        Console.Error.WriteLine(Usage);
        return 2;
    }
}

/// <summary>`--name value` and `--flag` options of one command.</summary>
internal sealed class BenchOptions
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);

    public static BenchOptions Parse(ReadOnlySpan<string> args)
    {
        var options = new BenchOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
                throw new ArgumentException($"expected an option starting with --, found '{arg}'");
            string? value = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : null;
            options._values[arg[2..]] = value;
        }
        return options;
    }

    public bool Flag(string name) => _values.ContainsKey(name);

    public string Text(string name, string fallback) =>
        !_values.TryGetValue(name, out string? text) ? fallback
        : text ?? throw new ArgumentException($"--{name} needs a value");

    public int Int(string name, int fallback)
    {
        if (!_values.TryGetValue(name, out string? text)) return fallback;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < 1)
            throw new ArgumentException($"--{name} must be a positive integer, found '{text}'");
        return value;
    }
}

/// <summary>Peak resident memory of this process, from /proc/self/status (VmHWM).</summary>
internal static class PeakMemory
{
    public static double PeakRssMegabytes()
    {
        const string path = "/proc/self/status";
        if (!File.Exists(path)) return double.NaN;
        foreach (string line in File.ReadLines(path))
        {
            if (!line.StartsWith("VmHWM:", StringComparison.Ordinal)) continue;
            string kb = line["VmHWM:".Length..].Trim().Split(' ')[0];
            return long.Parse(kb, CultureInfo.InvariantCulture) / 1024.0;
        }
        return double.NaN;
    }
}

/// <summary>`gemm`: times C = op(A)·op(B) on the fast SGEMM after a warm-up; prints the median GFLOP/s.</summary>
internal static class GemmBench
{
    public static int Run(BenchOptions options)
    {
        int size = options.Int("size", 1024);
        int m = options.Int("m", size), n = options.Int("n", size), k = options.Int("k", size);
        bool transA = options.Flag("transa"), transB = options.Flag("transb");
        int threads = options.Int("threads", WorkerPool.ThreadCountFromEnvironment());
        int reps = options.Int("reps", 20);

        var rng = new SeededRandom(1);
        float[] a = Random(rng, m * k), b = Random(rng, k * n), c = new float[m * n];
        int lda = transA ? m : k, ldb = transB ? k : n;
        using var pool = new WorkerPool(threads);
        void Once() => Sgemm.Multiply(transA, transB, m, n, k, a, lda, b, ldb, c, n, accumulate: false, pool);

        // Warm up until the tiered JIT has settled: at least 3 calls and 0.5 s.
        var warm = Stopwatch.StartNew();
        for (int i = 0; i < 3 || warm.Elapsed.TotalSeconds < 0.5; i++) Once();

        // Many small calls per sample, so every sample lasts at least ~1 ms.
        double flops = 2.0 * m * n * k;
        int inner = Math.Max(1, (int)(2e8 / flops));
        var seconds = new double[reps];
        for (int r = 0; r < reps; r++)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < inner; i++) Once();
            seconds[r] = Stopwatch.GetElapsedTime(t0).TotalSeconds / inner;
        }
        Array.Sort(seconds);
        double median = reps % 2 == 1 ? seconds[reps / 2] : 0.5 * (seconds[reps / 2 - 1] + seconds[reps / 2]);

        var json = new System.Text.StringBuilder();
        json.Append(CultureInfo.InvariantCulture, $"{{\"workload\":\"sgemm\",\"size\":{size}");
        if (m != size || n != size || k != size || transA || transB)
            json.Append(CultureInfo.InvariantCulture, $",\"m\":{m},\"n\":{n},\"k\":{k},\"transa\":{(transA ? "true" : "false")},\"transb\":{(transB ? "true" : "false")}");
        json.Append(CultureInfo.InvariantCulture,
            $",\"gflops\":{flops / median / 1e9:F1},\"threads\":{threads},\"peak_rss_mb\":{PeakMemory.PeakRssMegabytes():F1}}}");
        Console.WriteLine(json.ToString());
        return 0;
    }

    private static float[] Random(SeededRandom rng, int count)
    {
        var x = new float[count];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextFloat() * 2 - 1;
        return x;
    }
}
