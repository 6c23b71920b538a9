using SharpNas.Engine;
using SharpNas.Engine.Functional;
using SharpNas.Engine.Modules;
using SharpNas.Training.Cost;

namespace SharpNas.Search.Spaces.NasNet;

/// <summary>
/// Builds the module of each <see cref="NasNetOp"/> and counts its cost from shapes alone. Every module here is
/// followed, in the same class, by a static <c>Count</c> that adds exactly the layers its constructor creates to a
/// <see cref="CostCounter"/>, so the cost model and the built network cannot drift apart (a test checks they agree).
/// Convolutions are ReLU-conv-BN without bias; padding is symmetric (k/2 per side, times the dilation), so a stride-2 op
/// maps H to ⌈H/2⌉ whatever its kernel.
/// </summary>
public static class NasNetOps
{
    /// <summary>The module applying <paramref name="op"/> to a state of <paramref name="inChannels"/> channels, giving
    /// <paramref name="outChannels"/> channels, with <paramref name="stride"/> 1 or 2.</summary>
    public static Module<Tensor, Tensor> Create(NasNetOp op, int inChannels, int outChannels, int stride) => op switch
    {
        NasNetOp.Identity when stride == 1 && inChannels == outChannels => new IdentityOp(),
        NasNetOp.Identity => new ReluConvBn(inChannels, outChannels, 1, 1, stride),
        NasNetOp.Conv1x3Then3x1 => new ReluConvPairBn(inChannels, outChannels, 3, stride),
        NasNetOp.Conv1x7Then7x1 => new ReluConvPairBn(inChannels, outChannels, 7, stride),
        NasNetOp.DilatedConv3x3 => new ReluConvBn(inChannels, outChannels, 3, 3, stride, dilation: 2),
        NasNetOp.AvgPool3x3 => new PoolOp(PoolKind.Average, 3, inChannels, outChannels, stride),
        NasNetOp.MaxPool3x3 => new PoolOp(PoolKind.Max, 3, inChannels, outChannels, stride),
        NasNetOp.MaxPool5x5 => new PoolOp(PoolKind.Max, 5, inChannels, outChannels, stride),
        NasNetOp.MaxPool7x7 => new PoolOp(PoolKind.Max, 7, inChannels, outChannels, stride),
        NasNetOp.Conv1x1 => new ReluConvBn(inChannels, outChannels, 1, 1, stride),
        NasNetOp.Conv3x3 => new ReluConvBn(inChannels, outChannels, 3, 3, stride),
        NasNetOp.SepConv3x3 => new SeparableConvStack(inChannels, outChannels, 3, stride),
        NasNetOp.SepConv5x5 => new SeparableConvStack(inChannels, outChannels, 5, stride),
        NasNetOp.SepConv7x7 => new SeparableConvStack(inChannels, outChannels, 7, stride),
        _ => throw new ArgumentOutOfRangeException(nameof(op), $"unknown NASNet op {(int)op}"),
    };

    /// <summary>Adds the cost of <see cref="Create"/>'s module on an <paramref name="h"/>×<paramref name="w"/> input;
    /// returns the output size.</summary>
    public static (int H, int W) Count(CostCounter c, NasNetOp op, int inChannels, int outChannels, int h, int w, int stride) => op switch
    {
        NasNetOp.Identity when stride == 1 && inChannels == outChannels => (h, w),
        NasNetOp.Identity => ReluConvBn.Count(c, inChannels, outChannels, h, w, 1, 1, stride),
        NasNetOp.Conv1x3Then3x1 => ReluConvPairBn.Count(c, inChannels, outChannels, h, w, 3, stride),
        NasNetOp.Conv1x7Then7x1 => ReluConvPairBn.Count(c, inChannels, outChannels, h, w, 7, stride),
        NasNetOp.DilatedConv3x3 => ReluConvBn.Count(c, inChannels, outChannels, h, w, 3, 3, stride, dilation: 2),
        NasNetOp.AvgPool3x3 or NasNetOp.MaxPool3x3 => PoolOp.Count(c, 3, inChannels, outChannels, h, w, stride),
        NasNetOp.MaxPool5x5 => PoolOp.Count(c, 5, inChannels, outChannels, h, w, stride),
        NasNetOp.MaxPool7x7 => PoolOp.Count(c, 7, inChannels, outChannels, h, w, stride),
        NasNetOp.Conv1x1 => ReluConvBn.Count(c, inChannels, outChannels, h, w, 1, 1, stride),
        NasNetOp.Conv3x3 => ReluConvBn.Count(c, inChannels, outChannels, h, w, 3, 3, stride),
        NasNetOp.SepConv3x3 => SeparableConvStack.Count(c, inChannels, outChannels, h, w, 3, stride),
        NasNetOp.SepConv5x5 => SeparableConvStack.Count(c, inChannels, outChannels, h, w, 5, stride),
        NasNetOp.SepConv7x7 => SeparableConvStack.Count(c, inChannels, outChannels, h, w, 7, stride),
        _ => throw new ArgumentOutOfRangeException(nameof(op), $"unknown NASNet op {(int)op}"),
    };

    /// <summary>Output size of a symmetric-padded op with this kernel, dilation and stride (⌈H/stride⌉ for odd kernels).</summary>
    internal static int OutSize(int size, int kernel, int stride, int dilation = 1) =>
        (size + 2 * (dilation * (kernel - 1) / 2) - dilation * (kernel - 1) - 1) / stride + 1;
}

/// <summary>
/// An op that begins with a ReLU of its input. A cell applying several such ops to one state computes the ReLU once
/// and hands it to each (<see cref="ForwardAfterRelu"/>): one ReLU pass forward and one backward per state, not per op.
/// </summary>
public interface IReluFirst
{
    /// <summary>The op on <paramref name="relu"/> = ReLU(x); it reads <paramref name="relu"/> and never releases it.</summary>
    Tensor ForwardAfterRelu(Tensor relu);

    /// <summary>The whole op on x: its own ReLU, released once read.</summary>
    static Tensor Forward(IReluFirst op, Tensor x)
    {
        Tensor relu = F.Relu(x);
        Tensor y = op.ForwardAfterRelu(relu);
        relu.Release(y);
        return y;
    }
}

/// <summary>The identity op when neither stride nor channels change (no parameters).</summary>
public sealed class IdentityOp : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => x;
}

/// <summary>ReLU → conv kh×kw (stride, symmetric padding, dilation, no bias) → BN. Children: <c>conv</c>, <c>bn</c>.</summary>
public sealed class ReluConvBn : Module<Tensor, Tensor>, IReluFirst
{
    private readonly Conv2d _conv;
    private readonly BatchNorm2d _bn;

    /// <summary>Creates the op.</summary>
    public ReluConvBn(int inChannels, int outChannels, int kernelH, int kernelW, int stride, int dilation = 1)
    {
        _conv = RegisterModule("conv", new Conv2d(inChannels, outChannels, kernelH, kernelW,
            Conv2dOptions.Symmetric(stride, dilation * (kernelH - 1) / 2, dilation * (kernelW - 1) / 2, dilation)));
        _bn = RegisterModule("bn", new BatchNorm2d(outChannels));
    }

    /// <summary>Adds the layers of the constructor with the same arguments; returns the output size.</summary>
    public static (int H, int W) Count(CostCounter c, int inChannels, int outChannels, int h, int w, int kernelH, int kernelW, int stride, int dilation = 1)
    {
        c.Elementwise(inChannels, h, w);
        (int oh, int ow) = c.Conv(inChannels, outChannels, h, w, kernelH, kernelW, stride, dilation * (kernelH - 1) / 2,
            dilation * (kernelW - 1) / 2, dilation: dilation);
        c.BatchNorm(outChannels, oh, ow);
        return (oh, ow);
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => IReluFirst.Forward(this, x);

    /// <inheritdoc/>
    public Tensor ForwardAfterRelu(Tensor relu) => _bn.ForwardReleasing(_conv.Forward(relu));
}

/// <summary>ReLU → conv 1×k (stride in both directions) → conv k×1 → BN. Children: <c>conv_1</c>, <c>conv_2</c>, <c>bn</c>.</summary>
public sealed class ReluConvPairBn : Module<Tensor, Tensor>, IReluFirst
{
    private readonly Conv2d _row, _column;
    private readonly BatchNorm2d _bn;

    /// <summary>Creates the op.</summary>
    public ReluConvPairBn(int inChannels, int outChannels, int k, int stride)
    {
        _row = RegisterModule("conv_1", new Conv2d(inChannels, outChannels, 1, k, Conv2dOptions.Symmetric(stride, 0, k / 2)));
        _column = RegisterModule("conv_2", new Conv2d(outChannels, outChannels, k, 1, Conv2dOptions.Symmetric(1, k / 2, 0)));
        _bn = RegisterModule("bn", new BatchNorm2d(outChannels));
    }

    /// <summary>Adds the layers of the constructor with the same arguments; returns the output size.</summary>
    public static (int H, int W) Count(CostCounter c, int inChannels, int outChannels, int h, int w, int k, int stride)
    {
        c.Elementwise(inChannels, h, w);
        (int oh, int ow) = c.Conv(inChannels, outChannels, h, w, 1, k, stride, 0, k / 2);
        (oh, ow) = c.Conv(outChannels, outChannels, oh, ow, k, 1, 1, k / 2, 0);
        c.BatchNorm(outChannels, oh, ow);
        return (oh, ow);
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => IReluFirst.Forward(this, x);

    /// <inheritdoc/>
    public Tensor ForwardAfterRelu(Tensor relu) => _bn.ForwardReleasing(_column.ForwardReleasing(_row.Forward(relu)));
}

/// <summary>
/// NASNet's separable convolution, applied twice: [ReLU → depthwise k×k (stride) → pointwise 1×1 → BN] then
/// [ReLU → depthwise k×k → pointwise 1×1 → BN]; the first pointwise maps to the output channels. Children:
/// <c>depthwise_1</c>, <c>pointwise_1</c>, <c>bn_1</c>, <c>depthwise_2</c>, <c>pointwise_2</c>, <c>bn_2</c>.
/// </summary>
public sealed class SeparableConvStack : Module<Tensor, Tensor>, IReluFirst
{
    private readonly Conv2d _depthwise1, _pointwise1, _depthwise2, _pointwise2;
    private readonly BatchNorm2d _bn1, _bn2;

    /// <summary>Creates the op.</summary>
    public SeparableConvStack(int inChannels, int outChannels, int k, int stride)
    {
        _depthwise1 = RegisterModule("depthwise_1", new Conv2d(inChannels, inChannels, k, stride, k / 2, groups: inChannels));
        _pointwise1 = RegisterModule("pointwise_1", new Conv2d(inChannels, outChannels, 1));
        _bn1 = RegisterModule("bn_1", new BatchNorm2d(outChannels));
        _depthwise2 = RegisterModule("depthwise_2", new Conv2d(outChannels, outChannels, k, 1, k / 2, groups: outChannels));
        _pointwise2 = RegisterModule("pointwise_2", new Conv2d(outChannels, outChannels, 1));
        _bn2 = RegisterModule("bn_2", new BatchNorm2d(outChannels));
    }

    /// <summary>Adds the layers of the constructor with the same arguments (depthwise and pointwise counted
    /// separately); returns the output size.</summary>
    public static (int H, int W) Count(CostCounter c, int inChannels, int outChannels, int h, int w, int k, int stride)
    {
        c.Elementwise(inChannels, h, w);
        (int oh, int ow) = c.ConvSame(inChannels, inChannels, h, w, k, stride, groups: inChannels);
        c.Conv(inChannels, outChannels, oh, ow, 1, 1);
        c.BatchNorm(outChannels, oh, ow);
        c.Elementwise(outChannels, oh, ow);
        c.ConvSame(outChannels, outChannels, oh, ow, k, 1, groups: outChannels);
        c.Conv(outChannels, outChannels, oh, ow, 1, 1);
        c.BatchNorm(outChannels, oh, ow);
        return (oh, ow);
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => IReluFirst.Forward(this, x);

    /// <inheritdoc/>
    public Tensor ForwardAfterRelu(Tensor relu)
    {
        // Without autograd each intermediate is released once read (ForwardReleasing).
        Tensor y = _pointwise1.ForwardReleasing(_depthwise1.Forward(relu));
        Tensor r = _bn1.ForwardRelu(y);   // BN then ReLU as one op: same values and gradients, one activation less
        y.Release(r);
        return _bn2.ForwardReleasing(_pointwise2.ForwardReleasing(_depthwise2.ForwardReleasing(r)));
    }
}

/// <summary>Average or max pooling.</summary>
public enum PoolKind
{
    /// <summary>Average pooling; padding is not counted in the divisor (TensorFlow's behaviour, as NASNet).</summary>
    Average,
    /// <summary>Max pooling.</summary>
    Max,
}

/// <summary>k×k pooling (stride, padding k/2) followed, when the channel count changes, by a 1×1 conv and BN
/// (children <c>conv</c>, <c>bn</c>; none otherwise).</summary>
public sealed class PoolOp : Module<Tensor, Tensor>
{
    private readonly PoolKind _kind;
    private readonly Pool2dOptions _options;
    private readonly Conv2d? _conv;
    private readonly BatchNorm2d? _bn;

    /// <summary>Creates the op.</summary>
    public PoolOp(PoolKind kind, int k, int inChannels, int outChannels, int stride)
    {
        _kind = kind;
        _options = Pool2dOptions.Square(k, stride, k / 2, countIncludePad: false);
        if (inChannels != outChannels)
        {
            _conv = RegisterModule("conv", new Conv2d(inChannels, outChannels, 1));
            _bn = RegisterModule("bn", new BatchNorm2d(outChannels));
        }
    }

    /// <summary>Adds the layers of the constructor with the same arguments; returns the output size.</summary>
    public static (int H, int W) Count(CostCounter c, int k, int inChannels, int outChannels, int h, int w, int stride)
    {
        (int oh, int ow) = (NasNetOps.OutSize(h, k, stride), NasNetOps.OutSize(w, k, stride));
        c.Elementwise(inChannels, oh, ow);
        if (inChannels != outChannels)
        {
            c.Conv(inChannels, outChannels, oh, ow, 1, 1);
            c.BatchNorm(outChannels, oh, ow);
        }
        return (oh, ow);
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        Tensor y = _kind == PoolKind.Average ? F.AvgPool2d(x, _options) : F.MaxPool2d(x, _options);
        return _conv is null ? y : _bn!.ForwardReleasing(_conv.ForwardReleasing(y));
    }
}

/// <summary>1×1 conv → BN, without ReLU: projects a cell's output state to the width of the others. Children
/// <c>conv</c>, <c>bn</c>.</summary>
public sealed class ConvBn : Module<Tensor, Tensor>
{
    private readonly Conv2d _conv;
    private readonly BatchNorm2d _bn;

    /// <summary>Creates the op.</summary>
    public ConvBn(int inChannels, int outChannels)
    {
        _conv = RegisterModule("conv", new Conv2d(inChannels, outChannels, 1));
        _bn = RegisterModule("bn", new BatchNorm2d(outChannels));
    }

    /// <summary>Adds the layers of the constructor with the same arguments.</summary>
    public static void Count(CostCounter c, int inChannels, int outChannels, int h, int w)
    {
        c.Conv(inChannels, outChannels, h, w, 1, 1);
        c.BatchNorm(outChannels, h, w);
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => _bn.ForwardReleasing(_conv.Forward(x));
}

/// <summary>
/// Halves the resolution without losing every other pixel: ReLU (optional), then two 1×1 convs of stride 2, the second on the
/// input shifted by one pixel (it reads pixels (2i+1, 2j+1), zero past the edge), concatenated (⌊C/2⌋ + ⌈C/2⌉ channels)
/// and batch-normalised. Children: <c>path_1</c>, <c>path_2</c>, <c>bn</c>. The shift is a fixed 2×2 depthwise
/// selection conv (weight 1 at the bottom-right tap, stride 2, padded by one at the bottom and right), not a parameter.
/// </summary>
public sealed class FactorizedReduction : Module<Tensor, Tensor>
{
    private readonly Conv2d _path1, _path2;
    private readonly BatchNorm2d _bn;
    private readonly Tensor _shift;
    private readonly Conv2dOptions _shiftOptions;
    private readonly bool _relu;

    /// <summary>Creates the op from <paramref name="inChannels"/> to <paramref name="outChannels"/> (≥ 2) channels, with or
    /// without the leading ReLU.</summary>
    public FactorizedReduction(int inChannels, int outChannels, bool relu = true)
    {
        _relu = relu;
        if (outChannels < 2) throw new ArgumentException($"FactorizedReduction: needs at least 2 output channels, got {outChannels}");
        _path1 = RegisterModule("path_1", new Conv2d(inChannels, outChannels / 2, 1, stride: 2));
        _path2 = RegisterModule("path_2", new Conv2d(inChannels, outChannels - outChannels / 2, 1));
        _bn = RegisterModule("bn", new BatchNorm2d(outChannels));
        _shift = Tensor.Zeros(inChannels, 1, 2, 2);
        Span<float> s = _shift.Span;
        for (int c = 0; c < inChannels; c++) s[4 * c + 3] = 1f;
        _shiftOptions = new Conv2dOptions(StrideH: 2, StrideW: 2, PadBottom: 1, PadRight: 1, Groups: inChannels);
    }

    /// <summary>Adds the layers of the constructor with the same arguments; returns the output size (⌈H/2⌉ × ⌈W/2⌉).</summary>
    public static (int H, int W) Count(CostCounter c, int inChannels, int outChannels, int h, int w, bool relu = true)
    {
        if (relu) c.Elementwise(inChannels, h, w);
        (int oh, int ow) = c.Conv(inChannels, outChannels / 2, h, w, 1, 1, 2);
        c.Elementwise(inChannels, oh, ow);   // the fixed shift selects pixels: no weights, no multiply-adds counted
        c.Conv(inChannels, outChannels - outChannels / 2, oh, ow, 1, 1);
        c.Elementwise(outChannels, oh, ow);
        c.BatchNorm(outChannels, oh, ow);
        return (oh, ow);
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        Tensor r = _relu ? F.Relu(x) : x;
        Tensor a = _path1.Forward(r);
        Tensor b = _path2.ForwardReleasing(F.Conv2d(r, _shift, null, _shiftOptions));
        if (_relu) r.Release(b);
        Tensor ab = F.ConcatChannels(a, b);
        a.Release(ab);
        b.Release(ab);
        return _bn.ForwardReleasing(ab);
    }
}
