using SharpNas.Search.Trials;

namespace SharpNas.Search.Pruning;

/// <summary>The validation accuracy after each epoch (index 0 = after epoch 1) of another trial of the search: one
/// trained to its last epoch (<see cref="TrialStatus.Completed"/>), one stopped early by a pruner
/// (<see cref="TrialStatus.Pruned"/>), or one still training (<see cref="TrialStatus.Running"/>: the epochs it has
/// reported so far).</summary>
public sealed record LearningCurve(string Key, IReadOnlyList<double> ValidAccuracy, TrialStatus Status)
{
    /// <summary>Epochs the trial trained (so far, for a running one).</summary>
    public int Epochs => ValidAccuracy.Count;

    /// <summary>Trained to its last epoch.</summary>
    public bool Completed => Status == TrialStatus.Completed;
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
/// accuracies so far and the learning curves of the other trials of the search — finished ones and, as in Optuna,
/// ones still training, with the intermediate values they reported. Each pruner chooses which of them it compares
/// with. Pure and deterministic: equal inputs give equal decisions, whatever the process or the machine.
/// </summary>
public interface IPruner
{
    /// <summary>Short name (<c>median</c>, <c>asha</c>).</summary>
    string Name { get; }

    /// <summary>Decides after epoch <c>curve.Count</c> of a trial planned for <paramref name="totalEpochs"/> epochs.
    /// <paramref name="curve"/> holds the trial's validation accuracy after each epoch so far; <paramref name="others"/>
    /// the curves of the other trials of the same kind (same role, same planned epochs): completed, pruned and running.
    /// A trial is never pruned after its last epoch (it is finished; stopping saves nothing).</summary>
    PruneDecision Decide(IReadOnlyList<double> curve, int totalEpochs, IReadOnlyList<LearningCurve> others);
}
