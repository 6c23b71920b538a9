using SharpNas.Engine.Parallel;

namespace SharpNas.Engine.Kernels.Fast;

/// <summary>
/// The fast CPU kernels: convolution by im2col + packed SGEMM (1×1 stride-1 convs straight to SGEMM), direct
/// SIMD depthwise convolution and pooling, channel-parallel SIMD batch norm, all on one <see cref="WorkerPool"/>.
/// Every method is tested against <see cref="ReferenceKernels"/>; each SIMD level can be forced.
/// </summary>
/// <remarks>
/// Layouts as in <see cref="KernelSet"/> (NCHW, conv weight [Cout, Cin/groups, KH, KW]); backward kernels add into
/// their outputs. Results depend on the SIMD level and the pool's thread count, never on timing. Scratch memory
/// (im2col columns, padded planes, weight-gradient partials) is native, per pool participant, allocated on first
/// use and reused, so a steady-state call allocates nothing. Calls are serialised by the pool.
/// </remarks>
internal sealed unsafe class FastKernels : KernelSet
{
    private readonly WorkerPool _pool;
    private readonly SimdLevel _level;
    private readonly KernelScratch _scratch;
    private readonly WeightGradientReduction _reduction;

    /// <summary>Creates the kernels for <paramref name="level"/> on <paramref name="pool"/>.</summary>
    public FastKernels(SimdLevel level, WorkerPool pool)
    {
        _level = level;
        _pool = pool;
        _scratch = new KernelScratch(pool.ThreadCount);
        _reduction = new WeightGradientReduction(pool.ThreadCount);
    }

    /// <inheritdoc/>
    public override string Name => NameOf(_level);

    /// <summary>The SIMD level these kernels use.</summary>
    public SimdLevel Level => _level;

    /// <summary>"avx512", "avx2" or "scalar".</summary>
    public static string NameOf(SimdLevel level) => level switch
    {
        SimdLevel.Vector512 => "avx512",
        SimdLevel.Vector256 => "avx2",
        _ => "scalar",
    };

    /// <inheritdoc/>
    public override void Conv2dForward(in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y)
    {
        fixed (float* px = x) fixed (float* pw = w) fixed (float* pb = bias) fixed (float* py = y)
        {
            float* b = bias.IsEmpty ? null : pb;
            if (g.IsDepthwise) DepthwiseConv.Forward(g, px, pw, b, py, _pool, _scratch, _level);
            else GemmConv.Forward(g, px, pw, b, py, _pool, _scratch, _level);
        }
    }

    /// <inheritdoc/>
    public override void Conv2dForwardAffine(in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> w,
        ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, bool relu, Span<float> y,
        ReadOnlySpan<float> residual = default, Span<float> preActivation = default)
    {
        if (!DirectConv.Applies(g, _level))
        {
            base.Conv2dForwardAffine(g, x, w, scale, shift, relu, y, residual, preActivation);
            return;
        }
        fixed (float* px = x) fixed (float* pw = w) fixed (float* ps = scale) fixed (float* pt = shift) fixed (float* py = y)
        fixed (float* pr = residual) fixed (float* pa = preActivation)
        {
            var epilogue = new ConvEpilogue(null, ps, pt, relu, py, residual.IsEmpty ? null : pr, preActivation.IsEmpty ? null : pa);
            DirectConv.Forward(g, px, ConvWeights.Plain(pw), epilogue, py, accumulate: false, _pool, _scratch, _level);
        }
    }

    /// <inheritdoc/>
    public override void Conv2dBackwardInput(in ConvGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<float> w, Span<float> dx)
    {
        fixed (float* pdy = dy) fixed (float* pw = w) fixed (float* pdx = dx)
        {
            if (g.IsDepthwise) DepthwiseConv.BackwardInput(g, pdy, pw, pdx, _pool, _scratch, _level);
            else GemmConv.BackwardInput(g, pdy, pw, pdx, _pool, _scratch, _level);
        }
    }

    /// <inheritdoc/>
    /// <remarks>A pointwise conv's SGEMM and a depthwise conv's gather write dx instead of adding to it (no zero-fill,
    /// no read of dx); other convs clear, then add.</remarks>
    public override void Conv2dBackwardInputStore(in ConvGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<float> w, Span<float> dx)
    {
        if (!GemmConv.IsPointwise(g) && !g.IsDepthwise)
        {
            base.Conv2dBackwardInputStore(g, dy, w, dx);
            return;
        }
        fixed (float* pdy = dy) fixed (float* pw = w) fixed (float* pdx = dx)
        {
            if (g.IsDepthwise) DepthwiseConv.BackwardInput(g, pdy, pw, pdx, _pool, _scratch, _level, accumulate: false);
            else GemmConv.BackwardInput(g, pdy, pw, pdx, _pool, _scratch, _level, accumulate: false);
        }
    }

    /// <inheritdoc/>
    public override void Conv2dBackwardWeight(in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw)
    {
        fixed (float* px = x) fixed (float* pdy = dy) fixed (float* pdw = dw)
        {
            if (g.IsDepthwise) DepthwiseConv.BackwardWeight(g, px, pdy, pdw, _pool, _scratch, _level);
            else GemmConv.BackwardWeight(g, px, pdy, pdw, _pool, _scratch, _reduction, _level);
        }
    }

    /// <inheritdoc/>
    public override void MaxPool2dForward(in PoolGeometry g, ReadOnlySpan<float> x, Span<float> y)
    {
        fixed (float* px = x) fixed (float* py = y) Pooling.MaxForward(g, px, py, _pool, _scratch, _level);
    }

    /// <inheritdoc/>
    public override void MaxPool2dBackward(in PoolGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        fixed (float* px = x) fixed (float* pdy = dy) fixed (float* pdx = dx) Pooling.MaxBackward(g, px, pdy, pdx, _pool, _scratch, _level);
    }

    /// <inheritdoc/>
    public override void AvgPool2dForward(in PoolGeometry g, ReadOnlySpan<float> x, Span<float> y)
    {
        fixed (float* px = x) fixed (float* py = y) Pooling.AvgForward(g, px, py, _pool, _scratch, _level);
    }

    /// <inheritdoc/>
    public override void AvgPool2dBackward(in PoolGeometry g, ReadOnlySpan<float> dy, Span<float> dx)
    {
        fixed (float* pdy = dy) fixed (float* pdx = dx) Pooling.AvgBackward(g, pdy, pdx, _pool, _scratch, _level);
    }

    /// <inheritdoc/>
    public override void BatchNormTrainForward(int n, int c, int hw, ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta,
        float eps, Span<float> y, Span<float> mean, Span<float> invStd)
    {
        fixed (float* px = x) fixed (float* pg = gamma) fixed (float* pb = beta) fixed (float* py = y)
        fixed (float* pm = mean) fixed (float* pi = invStd)
        {
            BatchNormKernels.TrainForward(n, c, hw, px, gamma.IsEmpty ? null : pg, beta.IsEmpty ? null : pb, eps, py, pm, pi, _pool, _level);
        }
    }

    /// <inheritdoc/>
    public override void BatchNormTrainBackward(int n, int c, int hw, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> mean, ReadOnlySpan<float> invStd, Span<float> dx, Span<float> dgamma, Span<float> dbeta) =>
        BatchNormBackward(n, c, hw, x, dy, gamma, mean, invStd, dx, dgamma, dbeta, accumulate: true);

    /// <inheritdoc/>
    public override void BatchNormTrainBackwardStore(int n, int c, int hw, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> mean, ReadOnlySpan<float> invStd, Span<float> dx, Span<float> dgamma, Span<float> dbeta) =>
        BatchNormBackward(n, c, hw, x, dy, gamma, mean, invStd, dx, dgamma, dbeta, accumulate: false);

    private void BatchNormBackward(int n, int c, int hw, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> mean, ReadOnlySpan<float> invStd, Span<float> dx, Span<float> dgamma, Span<float> dbeta, bool accumulate)
    {
        fixed (float* px = x) fixed (float* pdy = dy) fixed (float* pg = gamma) fixed (float* pm = mean) fixed (float* pi = invStd)
        fixed (float* pdx = dx) fixed (float* pdg = dgamma) fixed (float* pdb = dbeta)
        {
            BatchNormKernels.TrainBackward(n, c, hw, px, pdy, gamma.IsEmpty ? null : pg, pm, pi,
                dx.IsEmpty ? null : pdx, dgamma.IsEmpty ? null : pdg, dbeta.IsEmpty ? null : pdb, accumulate, _pool, _level);
        }
    }

    /// <inheritdoc/>
    public override void Gemm(bool transA, bool transB, int m, int n, int k, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate) =>
        Sgemm.Multiply(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate, _pool, _level);
}

/// <summary>Chooses the fast kernels at start-up: the widest SIMD level the CPU accelerates
/// (<c>DOTNET_EnableAVX512F=0</c> and similar runtime switches lower it), capped by <c>SHARPNAS_SIMD</c>.</summary>
internal static class FastKernelFactory
{
    /// <summary>Caps the SIMD level: <c>avx512</c>, <c>avx2</c> or <c>scalar</c>.</summary>
    public const string SimdVariable = "SHARPNAS_SIMD";

    /// <summary>The fast kernels on <see cref="WorkerPool.Default"/> at <see cref="SelectedLevel"/>.</summary>
    public static KernelSet? Create() => new FastKernels(SelectedLevel(), WorkerPool.Default);

    /// <summary><see cref="SimdLevels.Best"/>, lowered to the cap in <c>SHARPNAS_SIMD</c> when it is set.</summary>
    /// <exception cref="InvalidOperationException">The variable names no level.</exception>
    public static SimdLevel SelectedLevel()
    {
        SimdLevel best = SimdLevels.Best;
        string? text = Environment.GetEnvironmentVariable(SimdVariable);
        if (string.IsNullOrWhiteSpace(text)) return best;
        SimdLevel cap = text.Trim().ToLowerInvariant() switch
        {
            "avx512" or "vector512" => SimdLevel.Vector512,
            "avx2" or "avx" or "vector256" => SimdLevel.Vector256,
            "scalar" or "none" => SimdLevel.Scalar,
            _ => throw new InvalidOperationException($"{SimdVariable} must be avx512, avx2 or scalar, found '{text}'."),
        };
        return cap < best ? cap : best;
    }
}
