using System.Numerics.Tensors;
using SharpNas.Engine.Autograd;

namespace SharpNas.Engine.Functional;

public static partial class F
{
    /// <summary>
    /// The option-A shortcut of CIFAR ResNets: keep even rows and columns (<c>x[:, :, ::2, ::2]</c>) when
    /// <paramref name="stride"/> is 2, then add (Cout − Cin)/2 zero channels before and after, so input channel c
    /// lands at output channel c + (Cout − Cin)/2.
    /// </summary>
    public static Tensor ShortcutA(Tensor x, int outChannels, int stride = 2)
    {
        if (x.Rank != 4) throw new ArgumentException($"ShortcutA: input must be [N, C, H, W], got {x.ShapeString}");
        if (stride is not (1 or 2)) throw new ArgumentException($"ShortcutA: stride must be 1 or 2, got {stride}");
        int n = x.Dim(0), c = x.Dim(1), h = x.Dim(2), w = x.Dim(3);
        if (outChannels < c || (outChannels - c) % 2 != 0)
            throw new ArgumentException($"ShortcutA: output channels {outChannels} must be at least the input's {c} and differ from it by an even number");
        int oh = (h + stride - 1) / stride, ow = (w + stride - 1) / stride, pad = (outChannels - c) / 2;
        Tensor y = Tensor.Zeros(n, outChannels, oh, ow);
        ReadOnlySpan<float> xs = x.Span;
        Span<float> ys = y.Span;
        for (int i = 0; i < n; i++)
            for (int ch = 0; ch < c; ch++)
                for (int r = 0; r < oh; r++)
                {
                    ReadOnlySpan<float> src = xs.Slice(((i * c + ch) * h + r * stride) * w, w);
                    Span<float> dst = ys.Slice(((i * outChannels + ch + pad) * oh + r) * ow, ow);
                    if (stride == 1) src.CopyTo(dst);
                    else for (int q = 0; q < dst.Length; q++) dst[q] = src[2 * q];
                }
        return GradMode.ShouldRecord(x) ? GradMode.Record(y, new ShortcutANode(stride, pad), x) : y;
    }

    private sealed class ShortcutANode(int stride, int pad) : Node
    {
        public override string Op => "ShortcutA";

        public override void Backward(Tensor output, Tensor dy)
        {
            Tensor x = Inputs[0];
            int n = x.Dim(0), c = x.Dim(1), h = x.Dim(2), w = x.Dim(3);
            int co = output.Dim(1), oh = output.Dim(2), ow = output.Dim(3);
            ReadOnlySpan<float> d = dy.Span;
            Span<float> dx = x.GradSpanForAccumulation();
            for (int i = 0; i < n; i++)
                for (int ch = 0; ch < c; ch++)
                    for (int r = 0; r < oh; r++)
                    {
                        ReadOnlySpan<float> src = d.Slice(((i * co + ch + pad) * oh + r) * ow, ow);
                        Span<float> dst = dx.Slice(((i * c + ch) * h + r * stride) * w, w);
                        if (stride == 1) TensorPrimitives.Add(dst, src, dst);
                        else for (int q = 0; q < src.Length; q++) dst[2 * q] += src[q];
                    }
        }
    }
}
