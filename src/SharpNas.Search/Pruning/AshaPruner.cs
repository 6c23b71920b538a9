using System.Globalization;

namespace SharpNas.Search.Pruning;

/// <summary>Settings of the <see cref="AshaPruner"/>.</summary>
public sealed record AshaOptions
{
    /// <summary>r: epochs of the first rung.</summary>
    public int MinEpochs { get; init; } = 1;
    /// <summary>η: the reduction factor; rung k sits at r·η^k epochs and lets the best 1/η of its trials go on.</summary>
    public int ReductionFactor { get; init; } = 3;
    /// <summary>At most this many rungs (null: every rung below the trials' last epoch).</summary>
    public int? MaxRungs { get; init; }

    /// <summary>Checks the values; errors name the command-line option.</summary>
    public AshaOptions Validated()
    {
        if (MinEpochs < 1) throw new ArgumentException($"--asha-min-epochs must be at least 1, got {MinEpochs}");
        if (ReductionFactor < 2) throw new ArgumentException($"--asha-eta must be at least 2, got {ReductionFactor}");
        if (MaxRungs is < 1) throw new ArgumentException($"--asha-rungs must be at least 1, got {MaxRungs}");
        return this;
    }
}

/// <summary>
/// Asynchronous successive halving (ASHA, Li et al. 2018) over epochs, in its stop-or-continue form. Rung k sits at
/// r·η^k epochs (only rungs below the last epoch; at most <see cref="AshaOptions.MaxRungs"/>). When a trial reaches a
/// rung, its validation accuracy there joins the accuracies every other trial recorded at that rung: a completed
/// trial passed every rung, a pruned one the rungs up to where it stopped, and a trial still training the rungs it
/// has reached so far (as Optuna's successive-halving pruner counts every trial that reported at the rung). Of these
/// n values the best max(1, ⌊n/η⌋) are promoted: the trial goes on if its accuracy is at least the ⌊n/η⌋-th best,
/// else it stops.
/// Decisions are taken at once with what is known (asynchronous: nobody waits for a rung to fill) and never
/// revisited; the first trials to reach a rung are judged against few others, which ASHA accepts as the price of
/// never idling. A trial cannot be paused and resumed later here, so "not promoted" means stopped.
/// </summary>
public sealed class AshaPruner(AshaOptions? options = null) : IPruner
{
    private readonly AshaOptions _options = (options ?? new AshaOptions()).Validated();

    /// <inheritdoc/>
    public string Name => "asha";

    /// <summary>The settings.</summary>
    public AshaOptions Options => _options;

    /// <summary>The epochs at which trials planned for <paramref name="totalEpochs"/> epochs are judged, in order.</summary>
    public IReadOnlyList<int> RungEpochs(int totalEpochs)
    {
        var rungs = new List<int>();
        for (long r = _options.MinEpochs; r < totalEpochs && (_options.MaxRungs is not int max || rungs.Count < max); r *= _options.ReductionFactor)
            rungs.Add((int)r);
        return rungs;
    }

    /// <inheritdoc/>
    public PruneDecision Decide(IReadOnlyList<double> curve, int totalEpochs, IReadOnlyList<LearningCurve> others)
    {
        int e = curve.Count;
        IReadOnlyList<int> rungs = RungEpochs(totalEpochs);
        int rung = IndexOf(rungs, e);
        if (rung < 0) return PruneDecision.Continue($"epoch {e} is not a rung");
        double accuracy = curve[e - 1];
        var recorded = new List<double>(others.Count + 1) { accuracy };
        foreach (LearningCurve c in others)
            if (c.Epochs >= e) recorded.Add(c.ValidAccuracy[e - 1]);
        recorded.Sort((a, b) => b.CompareTo(a));
        int promoted = Math.Max(1, recorded.Count / _options.ReductionFactor);
        double threshold = recorded[promoted - 1];
        string text = string.Create(CultureInfo.InvariantCulture,
            $"rung {rung} (epoch {e}): validation accuracy {accuracy:P2}, the best {promoted} of {recorded.Count} go on (threshold {threshold:P2})");
        return accuracy >= threshold ? PruneDecision.Continue(text) : PruneDecision.Stop(text);
    }

    private static int IndexOf(IReadOnlyList<int> rungs, int epoch)
    {
        for (int i = 0; i < rungs.Count; i++)
            if (rungs[i] == epoch) return i;
        return -1;
    }
}
