using SharpNas.Engine.Autograd;
using SharpNas.Engine.Kernels;

namespace SharpNas.Engine.Functional;

/// <summary>Window of a 2-D pooling: kernel, stride, symmetric padding, and for average pooling whether padding
/// counts in the divisor (PyTorch's default true; NASNet/TF use false).</summary>
public readonly record struct Pool2dOptions(int KernelH, int KernelW, int StrideH, int StrideW, int PadH = 0, int PadW = 0, bool CountIncludePad = true)
{
    /// <summary>Square kernel; stride defaults to the kernel size, as in PyTorch.</summary>
    public static Pool2dOptions Square(int kernel, int? stride = null, int pad = 0, bool countIncludePad = true) =>
        new(kernel, kernel, stride ?? kernel, stride ?? kernel, pad, pad, countIncludePad);

    internal PoolGeometry Geometry(string op, Tensor x) =>
        PoolGeometry.Create(op, x.Shape, KernelH, KernelW, StrideH, StrideW, PadH, PadW, PadH, PadW, CountIncludePad);
}

public static partial class F
{
    /// <summary>Max pooling of [N, C, H, W]; padding never wins (acts as −∞).</summary>
    public static Tensor MaxPool2d(Tensor x, in Pool2dOptions o)
    {
        PoolGeometry g = o.Geometry("MaxPool2d", x);
        Tensor y = Tensor.Empty(g.N, g.C, g.OH, g.OW);
        KernelSet.Active.MaxPool2dForward(g, x.Span, y.Span);
        return GradMode.ShouldRecord(x) ? GradMode.Record(y, new MaxPoolNode(g), x) : y;
    }

    /// <summary>Average pooling of [N, C, H, W] (divisor per <see cref="Pool2dOptions.CountIncludePad"/>).</summary>
    public static Tensor AvgPool2d(Tensor x, in Pool2dOptions o)
    {
        PoolGeometry g = o.Geometry("AvgPool2d", x);
        Tensor y = Tensor.Empty(g.N, g.C, g.OH, g.OW);
        KernelSet.Active.AvgPool2dForward(g, x.Span, y.Span);
        return GradMode.ShouldRecord(x) ? GradMode.Record(y, new AvgPoolNode(g), x) : y;
    }

    private sealed class MaxPoolNode(PoolGeometry g) : Node
    {
        public override string Op => "MaxPool2d";
        public override void Backward(Tensor output, Tensor dy) =>
            KernelSet.Active.MaxPool2dBackward(g, Inputs[0].Span, dy.Span, Inputs[0].GradSpanForAccumulation());
    }

    private sealed class AvgPoolNode(PoolGeometry g) : Node
    {
        public override string Op => "AvgPool2d";
        public override void Backward(Tensor output, Tensor dy) =>
            KernelSet.Active.AvgPool2dBackward(g, dy.Span, Inputs[0].GradSpanForAccumulation());
    }

    /// <summary>Mean over H and W: [N, C, H, W] → [N, C].</summary>
    public static Tensor GlobalAvgPool(Tensor x)
    {
        if (x.Rank != 4) throw new ArgumentException($"GlobalAvgPool: input must be [N, C, H, W], got {x.ShapeString}");
        int nc = x.Dim(0) * x.Dim(1), hw = x.Dim(2) * x.Dim(3);
        if (hw == 0) throw new ArgumentException($"GlobalAvgPool: empty image in {x.ShapeString}");
        Tensor y = Tensor.Empty(x.Dim(0), x.Dim(1));
        ReadOnlySpan<float> xs = x.Span;
        Span<float> ys = y.Span;
        for (int i = 0; i < nc; i++) ys[i] = System.Numerics.Tensors.TensorPrimitives.Sum(xs.Slice(i * hw, hw)) / hw;
        return GradMode.ShouldRecord(x) ? GradMode.Record(y, new GlobalAvgPoolNode(), x) : y;
    }

    private sealed class GlobalAvgPoolNode : Node
    {
        public override string Op => "GlobalAvgPool";

        public override void Backward(Tensor output, Tensor dy)
        {
            Tensor x = Inputs[0];
            int hw = x.Dim(2) * x.Dim(3);
            ReadOnlySpan<float> d = dy.Span;
            Span<float> dx = x.GradSpanForAccumulation();
            for (int i = 0; i < d.Length; i++)
            {
                Span<float> row = dx.Slice(i * hw, hw);
                System.Numerics.Tensors.TensorPrimitives.Add(row, d[i] / hw, row);
            }
        }
    }
}
