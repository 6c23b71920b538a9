using System.Diagnostics;
using System.Globalization;
using SharpNas.Engine.Kernels;

namespace SharpNas.Bench;

/// <summary>`--profile`: a kernel set that forwards every call to <paramref name="inner"/> and adds up its wall time
/// per kernel (convs also per shape), so a step's time splits into kernels and everything else.</summary>
internal sealed class ProfilingKernels(KernelSet inner) : KernelSet
{
    private readonly Dictionary<string, (long Ticks, int Calls)> _totals = [];

    public override string Name => inner.Name;

    /// <summary>Forgets the totals so far (after the warm-up).</summary>
    public void Reset() => _totals.Clear();

    /// <summary>Prints one JSON line per kernel, largest first, with its share of <paramref name="totalSeconds"/> (the timed steps).</summary>
    public void Print(double totalSeconds)
    {
        double kernels = 0;
        foreach (var (name, (ticks, calls)) in _totals.OrderByDescending(e => e.Value.Ticks))
        {
            double s = (double)ticks / Stopwatch.Frequency;
            kernels += s;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{{\"kernel\":\"{name}\",\"seconds\":{s:F3},\"calls\":{calls},\"share\":{s / totalSeconds:F3}}}"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"kernel\":\"(outside kernels)\",\"seconds\":{totalSeconds - kernels:F3},\"share\":{(totalSeconds - kernels) / totalSeconds:F3}}}"));
    }

    private static string Shape(string kernel, in ConvGeometry g) =>
        $"{kernel} {g.Cin}x{g.H}x{g.W}->{g.Cout} k{g.KH}x{g.KW} s{g.StrideH} g{g.Groups}";

    public override void Conv2dForward(in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y)
    {
        long t0 = Stopwatch.GetTimestamp();
        inner.Conv2dForward(g, x, w, bias, y);
        Add(Shape("conv_forward", g), t0);
    }

    public override void Conv2dForwardAffine(in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> w,
        ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, bool relu, Span<float> y,
        ReadOnlySpan<float> residual = default, Span<float> preActivation = default)
    {
        long t0 = Stopwatch.GetTimestamp();
        inner.Conv2dForwardAffine(g, x, w, scale, shift, relu, y, residual, preActivation);
        Add(Shape("conv_forward", g), t0);
    }

    public override void Conv2dBackwardInput(in ConvGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<float> w, Span<float> dx)
    {
        long t0 = Stopwatch.GetTimestamp();
        inner.Conv2dBackwardInput(g, dy, w, dx);
        Add(Shape("conv_backward_input", g), t0);
    }

    public override void Conv2dBackwardInputStore(in ConvGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<float> w, Span<float> dx)
    {
        long t0 = Stopwatch.GetTimestamp();
        inner.Conv2dBackwardInputStore(g, dy, w, dx);
        Add(Shape("conv_backward_input", g), t0);
    }

    public override void Conv2dBackwardWeight(in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw)
    {
        long t0 = Stopwatch.GetTimestamp();
        inner.Conv2dBackwardWeight(g, x, dy, dw);
        Add(Shape("conv_backward_weight", g), t0);
    }

    public override void MaxPool2dForward(in PoolGeometry g, ReadOnlySpan<float> x, Span<float> y)
    {
        long t0 = Stopwatch.GetTimestamp();
        inner.MaxPool2dForward(g, x, y);
        Add("maxpool_forward", t0);
    }

    public override void MaxPool2dBackward(in PoolGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        long t0 = Stopwatch.GetTimestamp();
        inner.MaxPool2dBackward(g, x, dy, dx);
        Add("maxpool_backward", t0);
    }

    public override void AvgPool2dForward(in PoolGeometry g, ReadOnlySpan<float> x, Span<float> y)
    {
        long t0 = Stopwatch.GetTimestamp();
        inner.AvgPool2dForward(g, x, y);
        Add("avgpool_forward", t0);
    }

    public override void AvgPool2dBackward(in PoolGeometry g, ReadOnlySpan<float> dy, Span<float> dx)
    {
        long t0 = Stopwatch.GetTimestamp();
        inner.AvgPool2dBackward(g, dy, dx);
        Add("avgpool_backward", t0);
    }

    public override void BatchNormTrainForward(int n, int c, int hw, ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta,
        float eps, Span<float> y, Span<float> mean, Span<float> invStd)
    {
        long t0 = Stopwatch.GetTimestamp();
        inner.BatchNormTrainForward(n, c, hw, x, gamma, beta, eps, y, mean, invStd);
        Add("batchnorm_forward", t0);
    }

    public override void BatchNormTrainBackward(int n, int c, int hw, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> mean, ReadOnlySpan<float> invStd, Span<float> dx, Span<float> dgamma, Span<float> dbeta)
    {
        long t0 = Stopwatch.GetTimestamp();
        inner.BatchNormTrainBackward(n, c, hw, x, dy, gamma, mean, invStd, dx, dgamma, dbeta);
        Add("batchnorm_backward", t0);
    }

    public override void BatchNormTrainBackwardStore(int n, int c, int hw, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> mean, ReadOnlySpan<float> invStd, Span<float> dx, Span<float> dgamma, Span<float> dbeta)
    {
        long t0 = Stopwatch.GetTimestamp();
        inner.BatchNormTrainBackwardStore(n, c, hw, x, dy, gamma, mean, invStd, dx, dgamma, dbeta);
        Add("batchnorm_backward", t0);
    }

    public override void Gemm(bool transA, bool transB, int m, int n, int k, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate)
    {
        long t0 = Stopwatch.GetTimestamp();
        inner.Gemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
        Add("gemm", t0);
    }

    private void Add(string name, long t0)
    {
        long ticks = Stopwatch.GetTimestamp() - t0;
        _totals.TryGetValue(name, out var total);
        _totals[name] = (total.Ticks + ticks, total.Calls + 1);
    }
}
