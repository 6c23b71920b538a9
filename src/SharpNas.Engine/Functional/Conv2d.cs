using SharpNas.Engine.Autograd;
using SharpNas.Engine.Kernels;

namespace SharpNas.Engine.Functional;

/// <summary>Hyper-parameters of a 2-D convolution. Padding is (top, left, bottom, right) so that TF-style
/// asymmetric "same" padding is expressible; <see cref="Symmetric"/> builds the usual PyTorch form.</summary>
public readonly record struct Conv2dOptions(int StrideH = 1, int StrideW = 1, int PadTop = 0, int PadLeft = 0,
    int PadBottom = 0, int PadRight = 0, int DilationH = 1, int DilationW = 1, int Groups = 1)
{
    /// <summary>Square stride, symmetric padding (padH, padW), dilation and groups, as PyTorch's <c>nn.Conv2d</c> takes them.</summary>
    public static Conv2dOptions Symmetric(int stride = 1, int padH = 0, int padW = 0, int dilation = 1, int groups = 1) =>
        new(stride, stride, padH, padW, padH, padW, dilation, dilation, groups);
}

public static partial class F
{
    /// <summary>2-D convolution (cross-correlation, PyTorch semantics). x [N, Cin, H, W], w [Cout, Cin/groups, KH, KW],
    /// bias [Cout] or null → [N, Cout, OH, OW].</summary>
    public static Tensor Conv2d(Tensor x, Tensor w, Tensor? bias, in Conv2dOptions o)
    {
        ConvGeometry g = ConvGeometry.Create("Conv2d", x.Shape, w.Shape, o.StrideH, o.StrideW, o.PadTop, o.PadLeft,
            o.PadBottom, o.PadRight, o.DilationH, o.DilationW, o.Groups);
        if (bias is not null && !bias.HasShape([g.Cout]))
            throw new ArgumentException($"Conv2d: bias {bias.ShapeString} must be [{g.Cout}] for weight {w.ShapeString}");
        Tensor y = Tensor.Empty(g.N, g.Cout, g.OH, g.OW);
        KernelSet.Active.Conv2dForward(g, x.Span, w.Span, bias is null ? default : bias.Span, y.Span);
        if (!GradMode.ShouldRecord(x, w, bias)) return y;
        return bias is null ? GradMode.Record(y, new Conv2dNode(g), x, w) : GradMode.Record(y, new Conv2dNode(g), x, w, bias);
    }

    /// <summary>
    /// <c>BatchNorm2d(Conv2d(x, w, null, o))</c> in evaluation mode (running statistics), then ReLU when
    /// <paramref name="relu"/>, as one kernel call: the per-channel affine step runs on each output row while it is
    /// in cache, and the values are those of the separate ops, bit for bit. Inference only: throws when a graph would
    /// be recorded.
    /// </summary>
    public static Tensor Conv2dBatchNormEval(Tensor x, Tensor w, in Conv2dOptions o, Tensor? gamma, Tensor? beta,
        Tensor runningMean, Tensor runningVar, float eps, bool relu) =>
        Conv2dBatchNormAffine(x, w, o, gamma, beta, runningMean, runningVar, eps, relu, residual: null, preActivation: null);

    /// <summary>
    /// <c>Relu(BatchNorm2d(Conv2d(x, w, null, o)) + residual)</c> in evaluation mode as one kernel call, the end of an
    /// inference residual block: the affine step, the addition and the ReLU run on each output row while it is in
    /// cache. <paramref name="sum"/> receives the pre-ReLU sum (what a block exposes as its features). Values are those
    /// of the separate ops, bit for bit. Inference only: throws when a graph would be recorded.
    /// </summary>
    public static Tensor Conv2dBatchNormAddReluEval(Tensor x, Tensor w, in Conv2dOptions o, Tensor? gamma, Tensor? beta,
        Tensor runningMean, Tensor runningVar, float eps, Tensor residual, out Tensor sum)
    {
        if (GradMode.ShouldRecord(residual))
            throw new InvalidOperationException("Conv2dBatchNormAddReluEval is for inference: call it without gradient recording");
        sum = Tensor.Empty(residual.ShapeArray);
        return Conv2dBatchNormAffine(x, w, o, gamma, beta, runningMean, runningVar, eps, relu: true, residual, sum);
    }

    private static Tensor Conv2dBatchNormAffine(Tensor x, Tensor w, in Conv2dOptions o, Tensor? gamma, Tensor? beta,
        Tensor runningMean, Tensor runningVar, float eps, bool relu, Tensor? residual, Tensor? preActivation)
    {
        if (GradMode.ShouldRecord(x, w, gamma) || (beta is not null && GradMode.ShouldRecord(beta)))
            throw new InvalidOperationException("Conv2dBatchNormEval is for inference: call it without gradient recording");
        ConvGeometry g = ConvGeometry.Create("Conv2d", x.Shape, w.Shape, o.StrideH, o.StrideW, o.PadTop, o.PadLeft,
            o.PadBottom, o.PadRight, o.DilationH, o.DilationW, o.Groups);
        if (residual is not null && !residual.HasShape([g.N, g.Cout, g.OH, g.OW]))
            throw new ArgumentException($"Conv2d: residual {residual.ShapeString} must match the output [{g.N}, {g.Cout}, {g.OH}, {g.OW}]");
        Tensor scale = Tensor.Empty(g.Cout), shift = Tensor.Empty(g.Cout);
        BatchNormEvalAffine(gamma, beta, runningMean, runningVar, eps, scale.Span, shift.Span);
        Tensor y = Tensor.Empty(g.N, g.Cout, g.OH, g.OW);
        KernelSet.Active.Conv2dForwardAffine(g, x.Span, w.Span, scale.Span, shift.Span, relu, y.Span,
            residual is null ? default : residual.Span, preActivation is null ? default : preActivation.Span);
        scale.ReturnToPool();
        shift.ReturnToPool();
        return y;
    }

    private sealed class Conv2dNode(ConvGeometry g) : Node
    {
        public override string Op => "Conv2d";

        public override void Backward(Tensor output, Tensor dy)
        {
            Tensor x = Inputs[0], w = Inputs[1];
            KernelSet k = KernelSet.Active;
            if (x.RequiresGrad)
            {
                Span<float> dx = x.GradSpanForWrite(out bool fresh);
                if (fresh) k.Conv2dBackwardInputStore(g, dy.Span, w.Span, dx);
                else k.Conv2dBackwardInput(g, dy.Span, w.Span, dx);
            }
            if (w.RequiresGrad) k.Conv2dBackwardWeight(g, x.Span, dy.Span, w.GradSpanForAccumulation());
            if (Inputs.Length > 2 && Inputs[2].RequiresGrad) SumPerChannel(dy.Span, g.N, g.Cout, g.OH * g.OW, Inputs[2].GradSpanForAccumulation());
        }
    }

    /// <summary>dst[c] += Σ over n and pixels of src[n, c, p].</summary>
    internal static void SumPerChannel(ReadOnlySpan<float> src, int n, int c, int hw, Span<float> dst)
    {
        for (int ch = 0; ch < c; ch++)
        {
            double s = 0;
            for (int i = 0; i < n; i++) s += System.Numerics.Tensors.TensorPrimitives.Sum(src.Slice((i * c + ch) * hw, hw));
            dst[ch] += (float)s;
        }
    }
}
