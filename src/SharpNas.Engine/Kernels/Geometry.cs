namespace SharpNas.Engine.Kernels;

/// <summary>
/// Everything a 2-D convolution kernel needs to know, validated once by <see cref="Create"/>.
/// Layouts: input [N, Cin, H, W]; weight [Cout, Cin/groups, KH, KW]; output [N, Cout, OH, OW], with
/// OH = ⌊(H + padTop + padBottom − dilH·(KH−1) − 1)/strideH⌋ + 1 (PyTorch's formula, padding may be asymmetric).
/// </summary>
public readonly record struct ConvGeometry(
    int N, int Cin, int H, int W, int Cout, int KH, int KW,
    int StrideH, int StrideW, int PadTop, int PadLeft, int PadBottom, int PadRight,
    int DilationH, int DilationW, int Groups, int OH, int OW)
{
    /// <summary>Input channels per group.</summary>
    public int CinPerGroup => Cin / Groups;
    /// <summary>Output channels per group.</summary>
    public int CoutPerGroup => Cout / Groups;
    /// <summary>True for a depthwise conv (one input channel per group).</summary>
    public bool IsDepthwise => Groups == Cin && Groups > 1;
    /// <summary>Multiply-accumulates of the forward pass.</summary>
    public long Macs => (long)N * Cout * OH * OW * CinPerGroup * KH * KW;

    /// <summary>Checks the arguments and computes the output size; errors name the op, the shapes and the culprit.</summary>
    public static ConvGeometry Create(string op, ReadOnlySpan<int> input, ReadOnlySpan<int> weight,
        int strideH, int strideW, int padTop, int padLeft, int padBottom, int padRight, int dilationH, int dilationW, int groups)
    {
        if (input.Length != 4) throw new ArgumentException($"{op}: input must be [N, C, H, W], got {Tensor.Format(input)}");
        if (weight.Length != 4) throw new ArgumentException($"{op}: weight must be [Cout, Cin/groups, KH, KW], got {Tensor.Format(weight)}");
        if (strideH <= 0 || strideW <= 0) throw new ArgumentException($"{op}: stride must be positive, got ({strideH}, {strideW})");
        if (dilationH <= 0 || dilationW <= 0) throw new ArgumentException($"{op}: dilation must be positive, got ({dilationH}, {dilationW})");
        if (padTop < 0 || padLeft < 0 || padBottom < 0 || padRight < 0)
            throw new ArgumentException($"{op}: padding must be non-negative, got (top {padTop}, left {padLeft}, bottom {padBottom}, right {padRight})");
        if (groups <= 0) throw new ArgumentException($"{op}: groups must be positive, got {groups}");
        int n = input[0], cin = input[1], h = input[2], w = input[3];
        int cout = weight[0], kh = weight[2], kw = weight[3];
        if (cin % groups != 0 || cout % groups != 0)
            throw new ArgumentException($"{op}: groups = {groups} must divide input channels {cin} and output channels {cout}");
        if (weight[1] != cin / groups)
            throw new ArgumentException($"{op}: weight {Tensor.Format(weight)} expects {weight[1] * groups} input channels (groups {groups}), input {Tensor.Format(input)} has {cin}");
        if (kh <= 0 || kw <= 0 || cout <= 0) throw new ArgumentException($"{op}: weight {Tensor.Format(weight)} has a non-positive size");
        int effH = dilationH * (kh - 1) + 1, effW = dilationW * (kw - 1) + 1;
        int ph = h + padTop + padBottom, pw = w + padLeft + padRight;
        if (effH > ph || effW > pw)
            throw new ArgumentException($"{op}: kernel {kh}x{kw} (dilation {dilationH},{dilationW}) is larger than the padded input {ph}x{pw} of {Tensor.Format(input)}");
        int oh = (ph - effH) / strideH + 1, ow = (pw - effW) / strideW + 1;
        return new ConvGeometry(n, cin, h, w, cout, kh, kw, strideH, strideW, padTop, padLeft, padBottom, padRight, dilationH, dilationW, groups, oh, ow);
    }
}

/// <summary>
/// A 2-D pooling window over [N, C, H, W]: kernel, stride, padding (top/left/bottom/right), output size
/// OH = ⌊(H + padTop + padBottom − KH)/strideH⌋ + 1. For average pooling, <see cref="CountIncludePad"/> chooses
/// the divisor: KH·KW always (PyTorch's default) or the number of real pixels in the window (TF/NASNet style).
/// </summary>
public readonly record struct PoolGeometry(
    int N, int C, int H, int W, int KH, int KW, int StrideH, int StrideW,
    int PadTop, int PadLeft, int PadBottom, int PadRight, int OH, int OW, bool CountIncludePad)
{
    /// <summary>Checks the arguments and computes the output size.</summary>
    public static PoolGeometry Create(string op, ReadOnlySpan<int> input, int kh, int kw, int strideH, int strideW,
        int padTop, int padLeft, int padBottom, int padRight, bool countIncludePad)
    {
        if (input.Length != 4) throw new ArgumentException($"{op}: input must be [N, C, H, W], got {Tensor.Format(input)}");
        if (kh <= 0 || kw <= 0) throw new ArgumentException($"{op}: kernel size must be positive, got ({kh}, {kw})");
        if (strideH <= 0 || strideW <= 0) throw new ArgumentException($"{op}: stride must be positive, got ({strideH}, {strideW})");
        if (padTop < 0 || padLeft < 0 || padBottom < 0 || padRight < 0)
            throw new ArgumentException($"{op}: padding must be non-negative");
        if (Math.Max(padTop, padBottom) * 2 > kh || Math.Max(padLeft, padRight) * 2 > kw)
            throw new ArgumentException($"{op}: padding ({padTop}, {padLeft}) must be at most half the kernel {kh}x{kw}");
        int h = input[2], w = input[3];
        int ph = h + padTop + padBottom, pw = w + padLeft + padRight;
        if (kh > ph || kw > pw)
            throw new ArgumentException($"{op}: kernel {kh}x{kw} is larger than the padded input {ph}x{pw} of {Tensor.Format(input)}");
        return new PoolGeometry(input[0], input[1], h, w, kh, kw, strideH, strideW, padTop, padLeft, padBottom, padRight,
            (ph - kh) / strideH + 1, (pw - kw) / strideW + 1, countIncludePad);
    }
}
