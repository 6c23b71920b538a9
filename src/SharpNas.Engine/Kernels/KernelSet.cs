namespace SharpNas.Engine.Kernels;

/// <summary>
/// The seam between the differentiable ops and the loops that do the arithmetic. <see cref="ReferenceKernels"/>
/// implements every method with plain loops and stays forever as the oracle; faster sets override methods and
/// are tested against it. All tensors are contiguous row-major; backward kernels <b>add</b> into their outputs
/// (the caller provides zeroed or partially accumulated gradients).
/// </summary>
public abstract class KernelSet
{
    [ThreadStatic] private static KernelSet? t_override;
    private static readonly Lazy<KernelSet> s_default = new(SelectDefault);

    /// <summary>A short name for logs and benchmarks (e.g. "reference", "avx512").</summary>
    public abstract string Name { get; }

    /// <summary>The kernels ops use on this thread: an override if one is active, else the start-up choice.</summary>
    public static KernelSet Active => t_override ?? s_default.Value;

    /// <summary>The plain-loop kernels.</summary>
    public static KernelSet Reference { get; } = new ReferenceKernels();

    /// <summary>Uses <paramref name="kernels"/> on this thread until the returned scope is disposed (tests compare sets this way).</summary>
    public static OverrideScope Use(KernelSet kernels) => new(kernels);

    /// <summary>Restores the previous kernel set on dispose.</summary>
    public readonly struct OverrideScope : IDisposable
    {
        private readonly KernelSet? _previous;
        internal OverrideScope(KernelSet kernels) { _previous = t_override; t_override = kernels; }
        /// <inheritdoc/>
        public void Dispose() => t_override = _previous;
    }

    private static KernelSet SelectDefault()
    {
        string? choice = Environment.GetEnvironmentVariable("SHARPNAS_KERNELS");
        if (string.Equals(choice, "reference", StringComparison.OrdinalIgnoreCase)) return Reference;
        return Fast.FastKernelFactory.Create() ?? Reference;
    }

    /// <summary>y = conv(x, w) + bias (bias may be empty).</summary>
    public abstract void Conv2dForward(in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y);
    /// <summary>
    /// y = conv(x, w)·scale + shift per output channel, then + <paramref name="residual"/> when it is not empty (its
    /// sum also stored into <paramref name="preActivation"/> when that is not empty), then max(y, 0) when
    /// <paramref name="relu"/>: a convolution followed by an evaluation-mode batch norm (a residual addition) and a ReLU
    /// in one call. The affine step is the same two roundings (multiply, then add) as the separate ops, so the result is
    /// theirs bit for bit. The base implementation runs the conv, then the rest over y row by row; fast sets apply it
    /// while the output is still in cache.
    /// </summary>
    public virtual void Conv2dForwardAffine(in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> w,
        ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, bool relu, Span<float> y,
        ReadOnlySpan<float> residual = default, Span<float> preActivation = default)
    {
        Conv2dForward(g, x, w, default, y);
        int p = g.OH * g.OW;
        for (int n = 0; n < g.N; n++)
            for (int c = 0; c < g.Cout; c++)
            {
                int at = (n * g.Cout + c) * p;
                ApplyAffine(y.Slice(at, p), scale[c], shift[c], relu, residual.IsEmpty ? default : residual.Slice(at, p),
                    preActivation.IsEmpty ? default : preActivation.Slice(at, p));
            }
    }

    /// <summary>row = row·scale + shift (two roundings), then + <paramref name="residual"/> (when not empty, the sum
    /// copied to <paramref name="preActivation"/> when that is not empty), then max(row, 0) when <paramref name="relu"/>.</summary>
    internal static void ApplyAffine(Span<float> row, float scale, float shift, bool relu,
        ReadOnlySpan<float> residual = default, Span<float> preActivation = default)
    {
        System.Numerics.Tensors.TensorPrimitives.Multiply(row, scale, row);
        System.Numerics.Tensors.TensorPrimitives.Add(row, shift, row);
        if (!residual.IsEmpty)
        {
            System.Numerics.Tensors.TensorPrimitives.Add(row, residual, row);
            if (!preActivation.IsEmpty) row.CopyTo(preActivation);
        }
        if (relu) System.Numerics.Tensors.TensorPrimitives.Max(row, 0f, row);
    }

    /// <summary>dx += dConv/dx · dy.</summary>
    public abstract void Conv2dBackwardInput(in ConvGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<float> w, Span<float> dx);
    /// <summary>dx = dConv/dx · dy, into a buffer whose contents are ignored (a tensor's first gradient). The base
    /// clears dx, then adds; fast sets store straight into it where their kernels can.</summary>
    public virtual void Conv2dBackwardInputStore(in ConvGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<float> w, Span<float> dx)
    {
        Parallel.ParallelSpans.Clear(dx);
        Conv2dBackwardInput(g, dy, w, dx);
    }
    /// <summary>dw += dConv/dw · dy.</summary>
    public abstract void Conv2dBackwardWeight(in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw);

    /// <summary>Max pooling (padding acts as −∞).</summary>
    public abstract void MaxPool2dForward(in PoolGeometry g, ReadOnlySpan<float> x, Span<float> y);
    /// <summary>dx += gradient of max pooling: each output's gradient goes to the first maximum of its window.</summary>
    public abstract void MaxPool2dBackward(in PoolGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx);
    /// <summary>Average pooling with the divisor chosen by <see cref="PoolGeometry.CountIncludePad"/>.</summary>
    public abstract void AvgPool2dForward(in PoolGeometry g, ReadOnlySpan<float> x, Span<float> y);
    /// <summary>dx += gradient of average pooling.</summary>
    public abstract void AvgPool2dBackward(in PoolGeometry g, ReadOnlySpan<float> dy, Span<float> dx);

    /// <summary>Training-mode batch norm over [N, C, HW]: per channel mean and biased variance, y = (x−mean)·invStd·γ + β.
    /// Writes <paramref name="mean"/> and <paramref name="invStd"/> = 1/√(var+eps) for the backward pass and the
    /// running statistics.</summary>
    public abstract void BatchNormTrainForward(int n, int c, int hw, ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta,
        float eps, Span<float> y, Span<float> mean, Span<float> invStd);
    /// <summary>Backward of <see cref="BatchNormTrainForward"/> (batch statistics differentiated). Adds into dx, dγ, dβ
    /// (any of them may be empty when not needed).</summary>
    public abstract void BatchNormTrainBackward(int n, int c, int hw, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> mean, ReadOnlySpan<float> invStd, Span<float> dx, Span<float> dgamma, Span<float> dbeta);
    /// <summary><see cref="BatchNormTrainBackward"/> with dx stored into a buffer whose contents are ignored (a tensor's
    /// first gradient) rather than added to; dγ and dβ still add. The base clears dx, then adds; fast sets store.</summary>
    public virtual void BatchNormTrainBackwardStore(int n, int c, int hw, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> mean, ReadOnlySpan<float> invStd, Span<float> dx, Span<float> dgamma, Span<float> dbeta)
    {
        Parallel.ParallelSpans.Clear(dx);
        BatchNormTrainBackward(n, c, hw, x, dy, gamma, mean, invStd, dx, dgamma, dbeta);
    }

    /// <summary>C (m×n) = op(A)·op(B), or += when <paramref name="accumulate"/>; row-major with leading dimensions.</summary>
    public abstract void Gemm(bool transA, bool transB, int m, int n, int k, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate);
}
