using SharpNas.Search.Spaces;
using SharpNas.Search.Strategies.Discrete;

namespace SharpNas.Tests.Search.Strategies;

/// <summary>A toy problem: one decision sequence (the target) scores 1; any other scores the fraction of decisions
/// it shares with the target (<paramref name="hamming"/>) or 0.</summary>
internal sealed class ToyEvaluator(int[] target, bool hamming) : IDiscreteEvaluator
{
    public int Calls { get; private set; }

    public double Score(int[] sample)
    {
        int same = sample.Zip(target, (a, b) => a == b ? 1 : 0).Sum();
        return same == target.Length ? 1.0 : hamming ? (double)same / target.Length : 0.0;
    }

    public DiscreteEvaluation Evaluate(int[] sample, CancellationToken cancel)
    {
        Calls++;
        return new DiscreteEvaluation(Score(sample), Cost: 1);
    }

    /// <summary>The index of the first observation that hit the target, or −1.</summary>
    public int FirstHit(IReadOnlyList<DiscreteObservation> history)
    {
        for (int i = 0; i < history.Count; i++) if (history[i].Sample.SequenceEqual(target)) return i;
        return -1;
    }

    public static DiscreteSpace Space(int decisions, int choices) => DiscreteSpace.Uniform(decisions, choices, "op");
}
