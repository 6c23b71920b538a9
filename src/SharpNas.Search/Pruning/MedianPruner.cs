using System.Globalization;

namespace SharpNas.Search.Pruning;

/// <summary>Settings of the <see cref="MedianPruner"/>.</summary>
public sealed record MedianPrunerOptions
{
    /// <summary>No trial is pruned after its first <c>WarmupEpochs</c> epochs (accuracies after one epoch are noisy).</summary>
    public int WarmupEpochs { get; init; } = 1;
    /// <summary>No trial is pruned at epoch e until at least this many completed trials reached e.</summary>
    public int MinCompletedTrials { get; init; } = 3;

    /// <summary>Checks the values; errors name the command-line option.</summary>
    public MedianPrunerOptions Validated()
    {
        if (WarmupEpochs < 0) throw new ArgumentException($"--prune-warmup must be at least 0, got {WarmupEpochs}");
        if (MinCompletedTrials < 1) throw new ArgumentException($"--prune-min-trials must be at least 1, got {MinCompletedTrials}");
        return this;
    }
}

/// <summary>
/// The median stopping rule: after epoch e (past the warm-up and before the last epoch), a trial whose validation
/// accuracy is strictly below the median of the completed trials' accuracies after epoch e is stopped. Only trials
/// trained to their end count — pruned ones would pull the median down, and the rule compares with runs that
/// finished; running trials are left out as Optuna's <c>MedianPruner</c> leaves them out (it takes the percentile over
/// completed trials) — the median of an even count is the mean of the two middle values.
/// </summary>
public sealed class MedianPruner(MedianPrunerOptions? options = null) : IPruner
{
    private readonly MedianPrunerOptions _options = (options ?? new MedianPrunerOptions()).Validated();

    /// <inheritdoc/>
    public string Name => "median";

    /// <summary>The settings.</summary>
    public MedianPrunerOptions Options => _options;

    /// <inheritdoc/>
    public PruneDecision Decide(IReadOnlyList<double> curve, int totalEpochs, IReadOnlyList<LearningCurve> others)
    {
        int e = curve.Count;
        if (e == 0 || e >= totalEpochs) return PruneDecision.Continue("last epoch");
        if (e <= _options.WarmupEpochs) return PruneDecision.Continue($"warm-up ({_options.WarmupEpochs} epochs)");
        double[] completed = others.Where(c => c.Completed && c.Epochs >= e).Select(c => c.ValidAccuracy[e - 1]).Order().ToArray();
        if (completed.Length < _options.MinCompletedTrials)
            return PruneDecision.Continue($"{completed.Length} completed trials reached epoch {e}, {_options.MinCompletedTrials} needed");
        double median = Median(completed);
        double accuracy = curve[e - 1];
        string text = string.Create(CultureInfo.InvariantCulture,
            $"validation accuracy {accuracy:P2} after epoch {e}, median of {completed.Length} completed trials {median:P2}");
        return accuracy < median ? PruneDecision.Stop(text) : PruneDecision.Continue(text);
    }

    /// <summary>The median of sorted values (mean of the middle two for an even count).</summary>
    public static double Median(IReadOnlyList<double> sorted)
    {
        if (sorted.Count == 0) throw new ArgumentException("the median of no values is undefined");
        int m = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
    }
}
