using System.Text.Json.Nodes;
using SharpNas.Search.Evaluators;
using SharpNas.Search.Trials;

namespace SharpNas.Search.Pruning;

/// <summary>
/// Connects a pruner to a search's trial store: after each epoch of a trial it reads the learning curves of the
/// finished trials of the same kind from the store (so pruning sees trials of earlier processes and of other
/// processes sharing the store) and asks the pruner. Trials of the same kind have the same role and the same
/// planned epochs; their curves are the <c>valid_curve</c> metric of completed and pruned trials.
/// </summary>
public sealed class TrialPruning(IPruner pruner, ITrialStore store)
{
    /// <summary>The pruner.</summary>
    public IPruner Pruner => pruner;

    /// <summary>Called when a trial is stopped, with the epoch reached and the decision.</summary>
    public event Action<TrialRequest, int, PruneDecision>? Pruned;

    /// <summary>Decides after epoch <c>curve.Count</c> of the trial <paramref name="request"/>.</summary>
    public PruneDecision Decide(TrialRequest request, IReadOnlyList<double> curve)
    {
        PruneDecision decision = pruner.Decide(curve, request.Epochs, FinishedCurves(store, request.Role, request.Epochs));
        if (decision.Prune) Pruned?.Invoke(request, curve.Count, decision);
        return decision;
    }

    /// <summary>The learning curves of the completed and pruned trials with role <paramref name="role"/> planned for
    /// <paramref name="epochs"/> epochs, in creation order (trials stored without a curve are left out).</summary>
    public static IReadOnlyList<LearningCurve> FinishedCurves(ITrialStore store, string role, int epochs)
    {
        var curves = new List<LearningCurve>();
        foreach (Trial t in store.All())
        {
            if (t.Role != role || t.Status is not (TrialStatus.Completed or TrialStatus.Pruned) || t.Metrics is null) continue;
            if (t.Metrics["epochs"]?.GetValue<int>() != epochs || t.Metrics["valid_curve"] is not JsonArray curve) continue;
            curves.Add(new LearningCurve(t.Key, curve.Select(v => v!.GetValue<double>()).ToArray(), t.Status == TrialStatus.Completed));
        }
        return curves;
    }
}
