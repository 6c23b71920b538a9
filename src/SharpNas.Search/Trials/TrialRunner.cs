using System.Text.Json.Nodes;
using SharpNas.Engine;
using SharpNas.Search.Evaluators;
using SharpNas.Search.Pruning;
using SharpNas.Training;

namespace SharpNas.Search.Trials;

/// <summary>One trial of a batch given to <see cref="TrialRunner.RunMany"/>: the arguments of <see cref="TrialRunner.Run"/>.</summary>
public sealed record TrialSpec(string Key, string Role, IArchitecture Architecture, int Epochs, bool ScoreStages = false, string? TransferFrom = null);

/// <summary>
/// Runs trials durably: a trial already completed in the store is answered from the store without evaluating
/// again (so is a trial whose architecture and configuration equal a completed trial's); otherwise it is marked running, evaluated (resuming from its artifact folder's checkpoint if a previous
/// process was killed), and completed in the store before the call returns. A trial stopped by a pruner
/// (<see cref="TrialPrunedException"/>) is stored as pruned and its partial metrics are returned (and recalled later) as its result.
/// </summary>
public sealed class TrialRunner(ITrialStore store, IEvaluator evaluator, string runDir)
{
    /// <summary>Called when a trial starts evaluating (not for trials answered from the store).</summary>
    public event Action<Trial>? Started;
    /// <summary>Called when a trial has metrics (also for trials answered from the store: <c>fromStore</c> true).</summary>
    public event Action<Trial, TrialMetrics, bool>? Finished;

    /// <summary>The store.</summary>
    public ITrialStore Store => store;

    /// <summary>Trials evaluated by this process (not answered from the store).</summary>
    public int Evaluated { get; private set; }

    /// <summary>Whether two trial configurations train the same way (stage scoring aside, which only adds metrics).</summary>
    private static bool SameTraining(JsonObject a, JsonObject b) =>
        a["epochs"]?.ToJsonString() == b["epochs"]?.ToJsonString() && a["transfer_from"]?.ToJsonString() == b["transfer_from"]?.ToJsonString();

    private static JsonObject Config(int epochs, bool scoreStages, string? transferFrom) =>
        new() { ["epochs"] = epochs, ["score_stages"] = scoreStages, ["transfer_from"] = transferFrom };

    /// <summary>
    /// Evaluates (or recalls) a batch of trials — e.g. the children a policy samples before its next update. Every
    /// trial is enqueued first, so the whole batch is visible in the store (and to <c>sharpnas status</c>) at once,
    /// then each is run as <see cref="Run"/> runs it; results come back in the batch's order.
    /// </summary>
    public IReadOnlyList<TrialMetrics> RunMany(IReadOnlyList<TrialSpec> batch, CancellationToken cancel = default)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (TrialSpec t in batch)
        {
            if (!keys.Add(t.Key)) throw new ArgumentException($"trial batch: key {t.Key} appears twice");
            store.GetOrAdd(t.Key, t.Role, t.Architecture.ToJson(), Config(t.Epochs, t.ScoreStages, t.TransferFrom));
        }
        return batch.Select(t => Run(t.Key, t.Role, t.Architecture, t.Epochs, t.ScoreStages, t.TransferFrom, cancel)).ToList();
    }

    /// <summary>Evaluates (or recalls) the trial <paramref name="key"/>.</summary>
    public TrialMetrics Run(string key, string role, IArchitecture architecture, int epochs, bool scoreStages = false,
        string? transferFrom = null, CancellationToken cancel = default)
    {
        JsonObject config = Config(epochs, scoreStages, transferFrom);
        Trial trial = store.GetOrAdd(key, role, architecture.ToJson(), config);
        if (trial.Genotype.ToJsonString() != architecture.ToJson().ToJsonString())
            throw new InvalidDataException($"trial {key} in the store has architecture {trial.Genotype.ToJsonString()}, the search now asks for {architecture.ToJson().ToJsonString()}: the run folder belongs to another search");
        if (trial.Status is (TrialStatus.Completed or TrialStatus.Pruned) && trial.Metrics is not null)
        {
            TrialMetrics stored = TrialMetrics.FromJson(trial.Metrics);
            Finished?.Invoke(trial, stored, true);
            return stored;
        }
        // The same architecture with the same configuration was already evaluated under another key (e.g. a stage-wise
        // candidate identical to the current network because no stage grew): reuse its result and files.
        Trial? twin = store.All().FirstOrDefault(t => t.Key != key && t.Status == TrialStatus.Completed && t.Metrics is not null
            && t.Genotype.ToJsonString() == trial.Genotype.ToJsonString() && SameTraining(t.Config, config)
            && (!scoreStages || t.Metrics["stage_scores"] is JsonArray));
        if (twin is not null)
        {
            store.Start(key, twin.ArtifactDir ?? "");
            trial = store.Complete(key, twin.Metrics!);
            TrialMetrics reused = TrialMetrics.FromJson(twin.Metrics!);
            Finished?.Invoke(trial, reused, true);
            return reused;
        }
        string dir = Path.Combine(runDir, "trials", key.Replace('/', '-'));
        trial = store.Start(key, Path.GetRelativePath(runDir, dir));
        Started?.Invoke(trial);
        TrialMetrics metrics;
        try
        {
            metrics = evaluator.Evaluate(new TrialRequest(key, role, architecture, dir, epochs, scoreStages, transferFrom), cancel);
        }
        catch (OperationCanceledException) { throw; }   // stays "running": the next run resumes it from its checkpoint
        catch (TrialPrunedException p)   // a result: the strategy gets the partial metrics
        {
            trial = store.Prune(key, p.Metrics.ToJson());
            Evaluated++;
            Finished?.Invoke(trial, p.Metrics, false);
            return p.Metrics;
        }
        catch (Exception e)
        {
            store.Fail(key, e.Message);
            throw;
        }
        finally
        {
            TensorPool.ReleaseUnused();   // the next trial's network is another size: drop this one's buffers
        }
        trial = store.Complete(key, metrics.ToJson());
        Evaluated++;
        Finished?.Invoke(trial, metrics, false);
        return metrics;
    }
}
