using SharpNas.Engine.Functional;

namespace SharpNas.Engine.Modules;

/// <summary>
/// PyTorch's <c>nn.Embedding</c> (no padding index, no max-norm): a table <c>weight</c> [V, D], initialised N(0, 1)
/// as PyTorch does; int64 indices of any shape S map to [S…, D].
/// </summary>
public sealed class Embedding : Module<long[], Tensor>
{
    /// <summary>[V, D].</summary>
    public Tensor Weight { get; }

    /// <summary>Creates a table of <paramref name="count"/> vectors of <paramref name="dimension"/> values.</summary>
    public Embedding(int count, int dimension)
    {
        if (count <= 0 || dimension <= 0)
            throw new ArgumentException($"Embedding: sizes must be positive, got {count} embeddings of dimension {dimension}");
        Weight = RegisterParameter("weight", Tensor.Zeros(count, dimension));
    }

    /// <inheritdoc/>
    protected override void ResetParameters(SeededRandom rng) => Init.Normal(Weight, 1.0, rng.Derive("weight"));

    /// <summary>One-dimensional indices [n] → [n, D].</summary>
    public override Tensor Forward(long[] indices) => F.Embedding(Weight, indices);

    /// <summary>Indices of shape <paramref name="indexShape"/> → [indexShape…, D].</summary>
    public Tensor Forward(ReadOnlySpan<long> indices, ReadOnlySpan<int> indexShape) => F.Embedding(Weight, indices, indexShape);
}
