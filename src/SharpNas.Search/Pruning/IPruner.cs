namespace SharpNas.Search.Pruning;

/// <summary>The validation accuracy after each epoch (index 0 = after epoch 1) of a trial that has finished, either
/// trained to its last epoch (<see cref="Completed"/>) or stopped early by a pruner.</summary>
public sealed record LearningCurve(string Key, IReadOnlyList<double> ValidAccuracy, bool Completed)
{
    /// <summary>Epochs the trial trained.</summary>
    public int Epochs => ValidAccuracy.Count;
}

/// <summary>A pruner's answer after one epoch: stop the trial or let it go on, and why (for logs and the trial row).</summary>
public sealed record PruneDecision(bool Prune, string Reason)
{
    /// <summary>Go on.</summary>
    public static PruneDecision Continue(string reason) => new(false, reason);

    /// <summary>Stop here.</summary>
    public static PruneDecision Stop(string reason) => new(true, reason);
}

/// <summary>
/// Decides, after each epoch of a trial, whether to stop it early as not promising, from its own validation
/// accuracies so far and the learning curves of the trials that have finished. Pure and deterministic: equal inputs
/// give equal decisions, whatever the process or the machine.
/// </summary>
public interface IPruner
{
    /// <summary>Short name (<c>median</c>, <c>asha</c>).</summary>
    string Name { get; }

    /// <summary>Decides after epoch <c>curve.Count</c> of a trial planned for <paramref name="totalEpochs"/> epochs.
    /// <paramref name="curve"/> holds the trial's validation accuracy after each epoch so far; <paramref name="finished"/>
    /// the curves of the other finished trials of the same kind (same role, same planned epochs). A trial is never
    /// pruned after its last epoch (it is finished; stopping saves nothing).</summary>
    PruneDecision Decide(IReadOnlyList<double> curve, int totalEpochs, IReadOnlyList<LearningCurve> finished);
}
