using SharpNas.Engine.Autograd;
using SharpNas.Engine.Parallel;

namespace SharpNas.Engine.Functional;

public static partial class F
{
    /// <summary>Concatenates [N, Ci, H, W] tensors along the channel dimension → [N, ΣCi, H, W].</summary>
    public static Tensor ConcatChannels(params Tensor[] xs)
    {
        if (xs.Length == 0) throw new ArgumentException("ConcatChannels: no inputs");
        Tensor first = xs[0];
        if (first.Rank < 2) throw new ArgumentException($"ConcatChannels: inputs need a channel dimension, got {first.ShapeString}");
        // Elements per channel from the spatial sizes (not Size / (N·C), which is 0 when the first input has no channels).
        int n = first.Dim(0), inner = 1, c = 0;
        for (int d = 2; d < first.Rank; d++) inner *= first.Dim(d);
        foreach (Tensor x in xs)
        {
            bool same = x.Rank == first.Rank && x.Dim(0) == n;
            for (int d = 2; same && d < x.Rank; d++) same = x.Dim(d) == first.Dim(d);
            if (!same) throw new ArgumentException($"ConcatChannels: {x.ShapeString} does not match {first.ShapeString} outside dimension 1");
            c += x.Dim(1);
        }
        int[] shape = first.ShapeArray;
        shape[1] = c;
        Tensor y = Tensor.Empty(shape);
        int offset = 0;
        foreach (Tensor x in xs)
        {
            int block = x.Dim(1) * inner;
            ParallelSpans.Blocks(x.Span, block, y.Span[offset..], c * inner, block, n, add: false);
            offset += block;
        }
        return GradMode.ShouldRecord(xs) ? GradMode.Record(y, new ConcatNode(n, c, inner), xs) : y;
    }

    private sealed class ConcatNode(int n, int c, int inner) : Node
    {
        public override string Op => "ConcatChannels";

        public override void Backward(Tensor output, Tensor dy)
        {
            ReadOnlySpan<float> d = dy.Span;
            int offset = 0;
            foreach (Tensor x in Inputs)
            {
                int block = x.Dim(1) * inner;
                if (x.RequiresGrad)
                {
                    Span<float> dx = x.GradSpanForWrite(out bool fresh);
                    ParallelSpans.Blocks(d[offset..], c * inner, dx, block, block, n, add: !fresh);
                }
                offset += block;
            }
        }
    }
}
