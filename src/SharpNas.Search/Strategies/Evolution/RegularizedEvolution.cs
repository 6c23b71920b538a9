using SharpNas.Engine;
using SharpNas.Search.Spaces;
using SharpNas.Search.Strategies.Discrete;

namespace SharpNas.Search.Strategies.Evolution;

/// <summary>Settings of <see cref="RegularizedEvolution"/>.</summary>
public sealed record EvolutionOptions
{
    /// <summary>P: the population is the P most recently evaluated samples.</summary>
    public int Population { get; init; } = 10;
    /// <summary>S: samples drawn (uniformly, with replacement) from the population for each tournament.</summary>
    public int SampleSize { get; init; } = 3;

    /// <summary>Throws naming the bad setting.</summary>
    public void Validate()
    {
        if (Population < 1) throw new ArgumentOutOfRangeException(nameof(Population), $"evolution: population must be ≥ 1, found {Population}");
        if (SampleSize < 1) throw new ArgumentOutOfRangeException(nameof(SampleSize), $"evolution: sample size must be ≥ 1, found {SampleSize}");
    }
}

/// <summary>
/// Regularized (aging) evolution (Real et al. 2019): the first P samples are uniform; afterwards each proposal draws S
/// members of the population, takes the one with the highest reward as parent and mutates one decision, chosen
/// uniformly, to a different value, chosen uniformly. The population is always the P most recent observations, so
/// adding a child ages out the oldest member — and the strategy's state is its history alone. Asynchronously
/// (<see cref="IAsynchronousStrategy"/>), as Real et al. ran it on their workers, a child is bred whenever a trial
/// finishes, from the P most recently finished; before P have finished, children are uniform.
/// </summary>
public sealed class RegularizedEvolution : DiscreteStrategy, IAsynchronousStrategy
{
    /// <summary>The settings.</summary>
    public EvolutionOptions Options { get; }

    /// <summary>Creates the strategy.</summary>
    public RegularizedEvolution(IDiscreteSpace space, ulong seed, EvolutionOptions? options = null) : base(space, seed)
    {
        Options = options ?? new EvolutionOptions();
        Options.Validate();
        if (!space.Decisions.Any(d => d.Choices > 1)) throw new ArgumentException("evolution: no decision of the space has two choices to mutate between");
    }

    /// <inheritdoc/>
    public override string Name => "evolution";

    /// <summary>The current population: the last P observations, oldest first.</summary>
    public IEnumerable<DiscreteObservation> CurrentPopulation() => History.Skip(Math.Max(0, History.Count - Options.Population));

    /// <inheritdoc/>
    protected override int[] ProposeCore(int index, SeededRandom rng)
    {
        if (index < Options.Population || History.Count < Options.Population) return Space.SampleUniform(rng);   // a batch proposed before the population is full
        int start = History.Count - Options.Population;
        DiscreteObservation parent = History[start + rng.NextInt(Options.Population)];
        for (int s = 1; s < Options.SampleSize; s++)
        {
            DiscreteObservation contender = History[start + rng.NextInt(Options.Population)];
            if (contender.Reward > parent.Reward) parent = contender;
        }
        return Mutate(parent.Sample, rng);
    }

    /// <inheritdoc/>
    public int[] ProposeAsynchronously(int index)
    {
        int[] sample = ProposeCore(index, Rng.Derive("propose", index));
        Space.Validate(sample);
        return sample;
    }

    /// <summary>A copy of <paramref name="sample"/> with one decision (among those with ≥ 2 choices) changed to a
    /// different value.</summary>
    public int[] Mutate(int[] sample, SeededRandom rng)
    {
        IReadOnlyList<DiscreteDecision> d = Space.Decisions;
        int position;
        do { position = rng.NextInt(d.Count); } while (d[position].Choices < 2);
        int[] child = (int[])sample.Clone();
        int other = rng.NextInt(d[position].Choices - 1);
        child[position] = other >= sample[position] ? other + 1 : other;
        return child;
    }
}
