using SharpNas.Engine;
using SharpNas.Search.Spaces;

namespace SharpNas.Search.Strategies.Discrete;

/// <summary>One evaluated sample and its reward (higher is better).</summary>
public sealed record DiscreteObservation(int[] Sample, double Reward);

/// <summary>
/// A search strategy over a <see cref="IDiscreteSpace"/>: it proposes a sample, is told its reward, and so on.
/// A strategy's state is a function of its seed and its history only, so a search killed at any point is rebuilt by
/// replaying the stored (sample, reward) pairs through <see cref="Observe"/> in order, and then proposes exactly
/// what the uninterrupted search would have proposed.
/// </summary>
public interface IDiscreteStrategy
{
    /// <summary>Short name (<c>random</c>, <c>evolution</c>, <c>reinforce</c>, <c>ppo</c>).</summary>
    string Name { get; }

    /// <summary>The space searched.</summary>
    IDiscreteSpace Space { get; }

    /// <summary>Every observation so far, in order.</summary>
    IReadOnlyList<DiscreteObservation> History { get; }

    /// <summary>The next sample to evaluate (sample number <c>History.Count</c>); calling it again before
    /// <see cref="Observe"/> returns the same sample.</summary>
    int[] Propose();

    /// <summary>Proposes sample number <paramref name="index"/> ≥ <c>History.Count</c> from the current state, before
    /// the samples in between are observed (a batch of children sampled with one policy); calling it again for the
    /// same index before it is observed returns the same sample. Strategies that cannot look ahead support only
    /// <c>index == History.Count</c>.</summary>
    int[] ProposeAt(int index) => index == History.Count ? Propose()
        : throw new NotSupportedException($"{Name}: proposes only the next sample ({History.Count}), not sample {index}");

    /// <summary>Records the reward of a sample (normally the one just proposed) and learns from it.</summary>
    void Observe(int[] sample, double reward);
}

/// <summary>
/// Base of the discrete strategies: keeps and validates the history, and gives each proposal its own random stream
/// derived from the seed and the proposal's number (so proposals do not depend on how many numbers earlier ones
/// drew, and a replayed history gives the same next proposal).
/// </summary>
public abstract class DiscreteStrategy : IDiscreteStrategy
{
    private readonly List<DiscreteObservation> _history = [];
    private readonly Dictionary<int, int[]> _pending = [];

    /// <summary>The strategy's root random stream.</summary>
    protected SeededRandom Rng { get; }

    /// <inheritdoc/>
    public abstract string Name { get; }

    /// <inheritdoc/>
    public IDiscreteSpace Space { get; }

    /// <inheritdoc/>
    public IReadOnlyList<DiscreteObservation> History => _history;

    /// <summary>Creates the strategy over <paramref name="space"/> with the run's seed.</summary>
    protected DiscreteStrategy(IDiscreteSpace space, ulong seed)
    {
        Space = space ?? throw new ArgumentNullException(nameof(space));
        Rng = new SeededRandom(seed);
    }

    /// <inheritdoc/>
    public int[] Propose() => ProposeAt(_history.Count);

    /// <inheritdoc/>
    public int[] ProposeAt(int index)
    {
        if (index < _history.Count) throw new ArgumentOutOfRangeException(nameof(index), $"{Name}: sample {index} was already observed");
        if (_pending.TryGetValue(index, out int[]? pending)) return (int[])pending.Clone();
        int[] sample = ProposeCore(index, Rng.Derive("propose", index));
        Space.Validate(sample);
        _pending[index] = sample;
        return (int[])sample.Clone();
    }

    /// <inheritdoc/>
    public void Observe(int[] sample, double reward)
    {
        Space.Validate(sample);
        if (!double.IsFinite(reward)) throw new ArgumentException($"{Name}: reward of sample {Space.Key(sample)} must be finite, found {reward}");
        var observation = new DiscreteObservation((int[])sample.Clone(), reward);
        _pending.Remove(_history.Count);
        _history.Add(observation);
        OnObserved(observation, _history.Count - 1);
    }

    /// <summary>Replays stored observations in order (a fresh strategy rebuilt from a trial store).</summary>
    public void Replay(IEnumerable<DiscreteObservation> observations)
    {
        foreach (DiscreteObservation o in observations) Observe(o.Sample, o.Reward);
    }

    /// <summary>Proposes sample number <paramref name="index"/> (≥ <c>History.Count</c> when a batch is sampled ahead),
    /// drawing only from <paramref name="rng"/>.</summary>
    protected abstract int[] ProposeCore(int index, SeededRandom rng);

    /// <summary>Learns from observation number <paramref name="index"/> (already appended to <see cref="History"/>).</summary>
    protected virtual void OnObserved(DiscreteObservation observation, int index) { }
}
