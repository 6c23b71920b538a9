using SharpNas.Engine;
using SharpNas.Search.Spaces;
using SharpNas.Search.Strategies.Discrete;

namespace SharpNas.Search.Strategies.RandomSearch;

/// <summary>Random search, the NASNet paper's baseline: every decision of every sample uniform over its choices,
/// independently of the rewards seen.</summary>
public sealed class RandomSearchStrategy(IDiscreteSpace space, ulong seed) : DiscreteStrategy(space, seed)
{
    /// <inheritdoc/>
    public override string Name => "random";

    /// <inheritdoc/>
    protected override int[] ProposeCore(int index, SeededRandom rng) => Space.SampleUniform(rng);
}
