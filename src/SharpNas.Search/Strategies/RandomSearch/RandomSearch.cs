using SharpNas.Engine;
using SharpNas.Search.Spaces;
using SharpNas.Search.Strategies.Discrete;

namespace SharpNas.Search.Strategies.RandomSearch;

/// <summary>Random search, the NASNet paper's baseline: every decision of every sample uniform over its choices,
/// independently of the rewards seen — so asynchronously (<see cref="IAsynchronousStrategy"/>) it proposes the same
/// samples, only without waiting for a batch to finish.</summary>
public sealed class RandomSearchStrategy(IDiscreteSpace space, ulong seed) : DiscreteStrategy(space, seed), IAsynchronousStrategy
{
    /// <inheritdoc/>
    public override string Name => "random";

    /// <inheritdoc/>
    protected override int[] ProposeCore(int index, SeededRandom rng) => Space.SampleUniform(rng);

    /// <inheritdoc/>
    public int[] ProposeAsynchronously(int index) => ProposeCore(index, Rng.Derive("propose", index));
}
