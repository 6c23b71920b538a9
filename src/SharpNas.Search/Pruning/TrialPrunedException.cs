using SharpNas.Search.Evaluators;

namespace SharpNas.Search.Pruning;

/// <summary>An evaluation stopped early by a pruner: the trial trained <see cref="EpochReached"/> epochs, and
/// <see cref="Metrics"/> holds what it measured until then (validation accuracy of its last epoch, its curve, cost).
/// The trial runner records it as a <c>pruned</c> trial; it is a result, not a failure.</summary>
public sealed class TrialPrunedException(int epochReached, TrialMetrics metrics)
    : Exception($"trial stopped early after epoch {epochReached}: {metrics.PruneReason}")
{
    /// <summary>Epochs trained before the trial was stopped.</summary>
    public int EpochReached { get; } = epochReached;

    /// <summary>The partial metrics (with <see cref="TrialMetrics.EpochsReached"/>, <see cref="TrialMetrics.ValidCurve"/> and
    /// <see cref="TrialMetrics.PruneReason"/> set).</summary>
    public TrialMetrics Metrics { get; } = metrics;
}
