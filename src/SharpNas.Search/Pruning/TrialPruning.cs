using System.Text.Json.Nodes;
using SharpNas.Search.Evaluators;
using SharpNas.Search.Trials;

namespace SharpNas.Search.Pruning;

/// <summary>
/// Connects a trial being trained to its search's trial store. After each epoch it reports the trial's validation
/// accuracies so far to the store (its intermediate values, <see cref="ITrialStore.ReportEpochs"/>), then reads the
/// curves of the other trials of the same kind — completed and pruned trials with their stored <c>valid_curve</c>,
/// running ones with the intermediate values they reported — and asks the pruner. So pruning sees trials of earlier
/// processes, of other processes sharing the store, and trials still training. Trials of the same kind have the same
/// role and the same planned epochs. Without a pruner it only reports.
/// </summary>
public sealed class TrialPruning
{
    private readonly IPruner? _pruner;
    private readonly ITrialStore _store;
    private readonly bool _followSearch;

    /// <summary>Reports to <paramref name="store"/> and decides with <paramref name="pruner"/> (null: reports only).</summary>
    public TrialPruning(IPruner? pruner, ITrialStore store)
    {
        _pruner = pruner;
        _store = store;
    }

    private TrialPruning(ITrialStore store)
    {
        _store = store;
        _followSearch = true;
    }

    /// <summary>Pruning as the store's search row says (its <c>prune</c> setting, <see cref="Pruners.FromJson"/>), read
    /// again at every decision: what a worker uses, so it follows the coordinator's <c>--prune</c>.</summary>
    public static TrialPruning FollowingSearch(ITrialStore store) => new(store);

    /// <summary>The pruner (null when the trials are only reported; for <see cref="FollowingSearch"/>, the one the
    /// search row names now).</summary>
    public IPruner? Pruner => _followSearch ? Pruners.FromJson(_store.FindSearch(_store.SearchId)?.Settings[Pruners.SettingName]) : _pruner;

    /// <summary>Called when a trial is stopped, with the epoch reached and the decision.</summary>
    public event Action<TrialRequest, int, PruneDecision>? Pruned;

    /// <summary>Reports epoch <c>curve.Count</c> of the trial <paramref name="request"/> and decides whether it goes on.</summary>
    public PruneDecision Decide(TrialRequest request, IReadOnlyList<double> curve)
    {
        string key = request.StoreKey ?? request.Key;
        if (curve.Count > 0) _store.ReportEpochs(key, curve);
        IPruner? pruner = Pruner;
        if (pruner is null) return PruneDecision.Continue("no pruner");
        PruneDecision decision = pruner.Decide(curve, request.Epochs, Curves(_store, request.Role, request.Epochs, except: key));
        if (decision.Prune) Pruned?.Invoke(request, curve.Count, decision);
        return decision;
    }

    /// <summary>
    /// The learning curves of the trials with role <paramref name="role"/> planned for <paramref name="epochs"/> epochs
    /// (but <paramref name="except"/>), in creation order: completed and pruned trials with the <c>valid_curve</c> of
    /// their metrics (the intermediate values they reported if they stored none), running trials — and queued ones
    /// whose earlier attempt reported values — with their intermediate values so far, as running. Trials without any
    /// value and failed trials are left out.
    /// </summary>
    public static IReadOnlyList<LearningCurve> Curves(ITrialStore store, string role, int epochs, string? except = null)
    {
        IReadOnlyDictionary<string, IReadOnlyList<double>> live = store.EpochValues();
        var curves = new List<LearningCurve>();
        foreach (Trial t in store.All())
        {
            if (t.Role != role || t.Key == except || t.Status == TrialStatus.Failed) continue;
            bool finished = t.Status is TrialStatus.Completed or TrialStatus.Pruned;
            JsonNode? planned = (finished ? t.Metrics?["epochs"] : null) ?? t.Config["epochs"];
            if (planned is not JsonValue v || !v.TryGetValue(out int plannedEpochs) || plannedEpochs != epochs) continue;
            IReadOnlyList<double>? curve = finished && t.Metrics?["valid_curve"] is JsonArray stored
                ? stored.Select(x => x!.GetValue<double>()).ToArray()
                : live.GetValueOrDefault(t.Key);
            if (curve is null || curve.Count == 0) continue;
            curves.Add(new LearningCurve(t.Key, curve, finished ? t.Status : TrialStatus.Running));
        }
        return curves;
    }
}
