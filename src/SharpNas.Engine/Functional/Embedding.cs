using System.Numerics.Tensors;
using SharpNas.Engine.Autograd;

namespace SharpNas.Engine.Functional;

// Embedding lookup: weight [V, D], int64 indices of shape S (any rank) → [S…, D].
// Saved for backward: the indices (as ints, validated). No gradient flows to the indices.
public static partial class F
{
    /// <summary>Rows of <paramref name="weight"/> [V, D] picked by <paramref name="indices"/> (of shape
    /// <paramref name="indexShape"/>, row-major) → [indexShape…, D]: PyTorch's <c>F.embedding</c> without padding
    /// index or max-norm. The weight's gradient accumulates over repeated indices; rows never picked get 0.</summary>
    public static Tensor Embedding(Tensor weight, ReadOnlySpan<long> indices, ReadOnlySpan<int> indexShape)
    {
        if (weight.Rank != 2) throw new ArgumentException($"Embedding: weight must be [V, D], got {weight.ShapeString}");
        int count = Tensor.ShapeSize(indexShape, "Embedding");
        if (count != indices.Length)
            throw new ArgumentException($"Embedding: index shape {Tensor.Format(indexShape)} needs {count} indices, got {indices.Length}");
        int v = weight.Dim(0), dim = weight.Dim(1);
        int[] rows = new int[count];
        for (int i = 0; i < count; i++)
        {
            if ((ulong)indices[i] >= (ulong)v)
                throw new ArgumentOutOfRangeException(nameof(indices), $"Embedding: index {indices[i]} at position {i} is outside [0, {v}) (weight {weight.ShapeString}, V = {v})");
            rows[i] = (int)indices[i];
        }
        int[] shape = new int[indexShape.Length + 1];
        indexShape.CopyTo(shape);
        shape[^1] = dim;
        Tensor y = Tensor.Empty(shape);
        ReadOnlySpan<float> w = weight.Span;
        Span<float> ys = y.Span;
        for (int i = 0; i < count; i++) w.Slice(rows[i] * dim, dim).CopyTo(ys.Slice(i * dim, dim));
        return GradMode.ShouldRecord(weight) ? GradMode.Record(y, new EmbeddingNode(rows, dim), weight) : y;
    }

    /// <summary>Rows of <paramref name="weight"/> [V, D] for a one-dimensional list of indices → [n, D].</summary>
    public static Tensor Embedding(Tensor weight, ReadOnlySpan<long> indices) => Embedding(weight, indices, [indices.Length]);

    private sealed class EmbeddingNode(int[] rows, int dim) : Node
    {
        public override string Op => "Embedding";

        public override void Backward(Tensor output, Tensor dy)
        {
            // dW[rows[i]] += dy[i]: a row picked k times receives k contributions.
            Span<float> dw = Inputs[0].GradSpanForAccumulation();
            ReadOnlySpan<float> d = dy.Span;
            for (int i = 0; i < rows.Length; i++)
            {
                Span<float> target = dw.Slice(rows[i] * dim, dim);
                TensorPrimitives.Add(target, d.Slice(i * dim, dim), target);
            }
        }
    }
}
