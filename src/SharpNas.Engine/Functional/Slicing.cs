using System.Numerics.Tensors;
using SharpNas.Engine.Autograd;

namespace SharpNas.Engine.Functional;

// Movement ops that copy: Narrow (a range along one dimension) and Stack (a new leading dimension).
// A tensor of shape [outer…, D, inner…] is viewed as [outer, D, inner] with outer and inner the products of the
// dimensions before and after; both ops copy blocks of `inner` contiguous elements.
public static partial class F
{
    /// <summary>Elements [<paramref name="start"/>, <paramref name="start"/> + <paramref name="length"/>) of x along
    /// <paramref name="dim"/> (negative counts from the end), as a new tensor: PyTorch's <c>x.narrow(dim, start, length)</c>.</summary>
    public static Tensor Narrow(Tensor x, int dim, int start, int length)
    {
        int d = dim < 0 ? dim + x.Rank : dim;
        if ((uint)d >= (uint)x.Rank)
            throw new ArgumentOutOfRangeException(nameof(dim), $"Narrow: dimension {dim} does not exist in {x.ShapeString}");
        int size = x.Dim(d);
        if (start < 0 || length < 0 || start > size - length)
            throw new ArgumentOutOfRangeException(nameof(start), $"Narrow: range [{start}, {(long)start + length}) is outside dimension {dim} (size {size}) of {x.ShapeString}");
        (int outer, int inner) = OuterInner(x.Shape, d);
        int[] shape = x.ShapeArray;
        shape[d] = length;
        Tensor y = Tensor.Empty(shape);
        ReadOnlySpan<float> xs = x.Span;
        Span<float> ys = y.Span;
        int block = length * inner;
        for (int o = 0; o < outer; o++) xs.Slice((o * size + start) * inner, block).CopyTo(ys.Slice(o * block, block));
        return GradMode.ShouldRecord(x) ? GradMode.Record(y, new NarrowNode(outer, size * inner, start * inner, block), x) : y;
    }

    private sealed class NarrowNode(int outer, int stride, int offset, int block) : Node
    {
        public override string Op => "Narrow";

        public override void Backward(Tensor output, Tensor dy)
        {
            // The slice's gradient goes back to where the slice came from; the rest of x gets nothing.
            Span<float> dx = Inputs[0].GradSpanForAccumulation();
            ReadOnlySpan<float> d = dy.Span;
            for (int o = 0; o < outer; o++)
            {
                Span<float> target = dx.Slice(o * stride + offset, block);
                TensorPrimitives.Add(target, d.Slice(o * block, block), target);
            }
        }
    }

    /// <summary>Stacks tensors of one shape S along a new leading dimension → [n, S…] (PyTorch's <c>torch.stack(xs, 0)</c>);
    /// the LSTM uses it to gather its time steps.</summary>
    public static Tensor Stack(params Tensor[] xs)
    {
        if (xs.Length == 0) throw new ArgumentException("Stack: no inputs");
        Tensor first = xs[0];
        for (int i = 1; i < xs.Length; i++)
            if (!xs[i].HasShape(first.Shape))
                throw new ArgumentException($"Stack: input {i} has shape {xs[i].ShapeString}, input 0 has {first.ShapeString}");
        int[] shape = new int[first.Rank + 1];
        shape[0] = xs.Length;
        first.Shape.CopyTo(shape.AsSpan(1));
        Tensor y = Tensor.Empty(shape);
        int block = first.Size;
        for (int i = 0; i < xs.Length; i++) xs[i].Span.CopyTo(y.Span.Slice(i * block, block));
        return GradMode.ShouldRecord(xs) ? GradMode.Record(y, new StackNode(), xs) : y;
    }

    private sealed class StackNode : Node
    {
        public override string Op => "Stack";

        public override void Backward(Tensor output, Tensor dy)
        {
            // Input i gets slice i of dy (an input stacked twice gets both slices).
            for (int i = 0; i < Inputs.Length; i++)
            {
                Tensor x = Inputs[i];
                if (x.RequiresGrad) x.AccumulateGrad(dy.Span.Slice(i * x.Size, x.Size));
            }
        }
    }

    /// <summary>Products of the dimensions before and after <paramref name="dim"/>.</summary>
    private static (int Outer, int Inner) OuterInner(ReadOnlySpan<int> shape, int dim)
    {
        int outer = 1, inner = 1;
        for (int i = 0; i < dim; i++) outer *= shape[i];
        for (int i = dim + 1; i < shape.Length; i++) inner *= shape[i];
        return (outer, inner);
    }
}
