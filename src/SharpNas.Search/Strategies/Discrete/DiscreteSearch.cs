using System.Globalization;
using System.Text.Json.Nodes;
using SharpNas.Search.Spaces;
using SharpNas.Search.Trials;

namespace SharpNas.Search.Strategies.Discrete;

/// <summary>The outcome of evaluating one sample: its reward (higher is better), what it cost (e.g. simulated
/// training seconds, counted against <see cref="DiscreteBudget.MaxCost"/>) and any further metrics to store; <paramref name="Pruned"/>:
/// stopped early by a pruner (the reward is the partial one; the trial is stored as pruned).</summary>
public sealed record DiscreteEvaluation(double Reward, double Cost = 0, JsonObject? Metrics = null, bool Pruned = false);

/// <summary>Scores samples of a discrete space (a tabular benchmark, a trained child network, a toy function).</summary>
public interface IDiscreteEvaluator
{
    /// <summary>Evaluates one sample.</summary>
    DiscreteEvaluation Evaluate(int[] sample, CancellationToken cancel);

    /// <summary>Evaluates the sample of the store's trial <paramref name="trialKey"/>, so that a training evaluation can
    /// report its intermediate values to that trial (by default the key is not used).</summary>
    DiscreteEvaluation Evaluate(int[] sample, string? trialKey, CancellationToken cancel) => Evaluate(sample, cancel);
}

/// <summary>When a search stops: after <see cref="MaxQueries"/> evaluations, or once the summed cost reaches
/// <see cref="MaxCost"/> (the evaluation that crosses it still counts, as in NAS-Bench-201's protocol); null = no limit.</summary>
public sealed record DiscreteBudget(int? MaxQueries = null, double? MaxCost = null)
{
    /// <summary>Throws unless at least one limit is set and every set limit is positive.</summary>
    public void Validate()
    {
        if (MaxQueries is null && MaxCost is null) throw new ArgumentException("budget: give a number of queries or a cost limit");
        if (MaxQueries is <= 0) throw new ArgumentOutOfRangeException(nameof(MaxQueries), $"budget: queries must be ≥ 1, found {MaxQueries}");
        if (MaxCost is not null && !(MaxCost > 0)) throw new ArgumentOutOfRangeException(nameof(MaxCost), $"budget: cost limit must be > 0, found {MaxCost}");
    }

    /// <summary>True while another evaluation may start.</summary>
    public bool Allows(int queries, double cost) => (MaxQueries is null || queries < MaxQueries) && (MaxCost is null || cost < MaxCost);
}

/// <summary>What a finished search holds: the history, the index of the best-rewarded sample (the first one on
/// ties), the summed cost and how many samples this process evaluated (the rest came from the store).</summary>
public sealed record DiscreteSearchResult(IReadOnlyList<DiscreteObservation> History, int BestIndex, double TotalCost, int EvaluatedNow)
{
    /// <summary>The best observation.</summary>
    public DiscreteObservation Best => History[BestIndex];
}

/// <summary>
/// Runs a <see cref="IDiscreteStrategy"/> against an evaluator, durably: each sample is a trial <c>sample/000123</c>
/// in the store. Samples are proposed in batches of <see cref="ChildrenPerUpdate"/> (M): the M children of a batch are
/// proposed from the same strategy state (one policy, one population), all enqueued, evaluated by whichever processes
/// lease them — this one, and any <c>sharpnas worker</c> attached to the store — and observed in sample order once all
/// are done. M = 1 is the sequential search. Started on a store that already holds completed samples, it replays the
/// completed batches into the (fresh) strategy and continues where the killed run stopped; trials already enqueued
/// are found by key, never enqueued twice. With <see cref="Asynchronous"/> (evolution, random search) there are no
/// batches: M trials are kept in flight, and a new child is proposed as soon as any of them finishes.
/// </summary>
public sealed class DiscreteSearch(IDiscreteStrategy strategy, IDiscreteEvaluator evaluator, ITrialStore? store = null)
{
    /// <summary>Trial role of the samples.</summary>
    public const string Role = "sample";

    /// <summary>M: children proposed per strategy update and evaluated in parallel (default 1: sequential).</summary>
    public int ChildrenPerUpdate { get; init; } = 1;

    /// <summary>
    /// Asynchronous search (the strategy must be an <see cref="IAsynchronousStrategy"/>): instead of batches, keep
    /// <see cref="ChildrenPerUpdate"/> trials in flight; whenever one finishes, observe it and propose the next child from
    /// everything observed so far. Trials are observed in the order they finished (the store's finish time), which
    /// with workers depends on timing. Without workers — this process evaluates the oldest open trial, and with no
    /// store it does the same — trials finish in sample order, so the search is deterministic, and with M = 1 it is
    /// exactly the sequential search. A rerun replays the finished trials in the order they finished and keeps the
    /// open ones in flight.
    /// </summary>
    public bool Asynchronous { get; init; }

    /// <summary>Lease settings when trials are taken from the store (this process trains queued trials itself).</summary>
    public LeaseOptions Lease { get; init; } = new();

    /// <summary>The reward observed for a sample whose trial failed <see cref="LeaseOptions.MaxAttempts"/> times (the
    /// search goes on).</summary>
    public double FailedReward { get; init; }

    /// <summary>Settings stored in every trial's config besides the strategy's name (e.g. data spec, epochs, seed), so
    /// that a trial row says what it trains.</summary>
    public JsonObject? TrialConfig { get; init; }

    /// <summary>The artifact folder of a sample's trial, relative to the artifact root (null: none recorded).</summary>
    public Func<int[], string>? ArtifactDir { get; init; }

    /// <summary>Called after each evaluation (also for replayed ones and ones other processes evaluated:
    /// <c>fromStore</c> true) with its sample number.</summary>
    public event Action<int, DiscreteObservation, bool>? Observed;

    /// <summary>Called when this process leases a trial to evaluate it.</summary>
    public event Action<Trial>? Leased;

    /// <summary>The trial key of sample number <paramref name="index"/>.</summary>
    public static string TrialKey(int index) => "sample/" + index.ToString("D6", CultureInfo.InvariantCulture);

    /// <summary>The completed (or pruned) samples of a store, in sample order, with their costs; stops at the first gap. With
    /// <paramref name="failedReward"/>, a failed trial counts as observed with that reward and no cost.</summary>
    public static IReadOnlyList<(DiscreteObservation Observation, double Cost)> LoadHistory(ITrialStore store, IDiscreteSpace space, double? failedReward = null)
    {
        var byKey = store.All().Where(t => t.Role == Role && ((t.Status is TrialStatus.Completed or TrialStatus.Pruned && t.Metrics is not null)
                || (failedReward is not null && t.Status == TrialStatus.Failed)))
            .ToDictionary(t => t.Key, StringComparer.Ordinal);
        var result = new List<(DiscreteObservation, double)>();
        for (int i = 0; byKey.TryGetValue(TrialKey(i), out Trial? t); i++)
            result.Add(Outcome(t, space, failedReward ?? 0));
        return result;
    }

    private static (DiscreteObservation, double) Outcome(Trial t, IDiscreteSpace space, double failedReward)
    {
        int[] sample = ReadSample(t.Genotype, space, t.Key);
        if (t.Status == TrialStatus.Failed || (t.Status == TrialStatus.Pruned && t.Metrics?["reward"] is null))
            return (new DiscreteObservation(sample, failedReward), 0);
        double reward = t.Metrics!["reward"]?.GetValue<double>() ?? throw new InvalidDataException($"trial {t.Key}: metrics lack \"reward\"");
        double cost = t.Metrics["cost"]?.GetValue<double>() ?? 0;
        return (new DiscreteObservation(sample, reward), cost);
    }

    /// <summary>The sample a trial's genotype holds, validated against the space.</summary>
    public static int[] ReadSample(JsonObject genotype, IDiscreteSpace space, string key)
    {
        if (genotype["choices"] is not JsonArray choices)
            throw new InvalidDataException($"trial {key}: genotype lacks \"choices\" (found {genotype.ToJsonString()})");
        int[] sample = choices.Select(c => c!.GetValue<int>()).ToArray();
        try { space.Validate(sample); }
        catch (ArgumentException e) { throw new InvalidDataException($"trial {key}: {e.Message}; the run folder belongs to another search"); }
        return sample;
    }

    private static JsonObject Genotype(IDiscreteSpace space, int[] sample) =>
        new() { ["kind"] = "discrete", ["key"] = space.Key(sample), ["choices"] = new JsonArray(sample.Select(c => (JsonNode?)c).ToArray()) };

    /// <summary>Evaluates the sample of a leased trial and returns the metrics to store (the evaluator's, plus
    /// <c>reward</c> and <c>cost</c>): what the coordinator and every worker run.</summary>
    public static JsonObject EvaluateTrial(IDiscreteEvaluator evaluator, IDiscreteSpace space, Trial trial, CancellationToken cancel)
    {
        DiscreteEvaluation e = evaluator.Evaluate(ReadSample(trial.Genotype, space, trial.Key), trial.Key, cancel);
        JsonObject metrics = e.Metrics?.DeepClone().AsObject() ?? [];
        metrics["reward"] = e.Reward;
        metrics["cost"] = e.Cost;
        return metrics;
    }

    /// <summary>Runs until the budget is spent (counting replayed samples) and returns the whole history.</summary>
    public DiscreteSearchResult Run(DiscreteBudget budget, CancellationToken cancel = default)
    {
        budget.Validate();
        if (ChildrenPerUpdate < 1) throw new ArgumentException($"children per update must be at least 1, found {ChildrenPerUpdate}");
        Lease.Validate();
        if (Asynchronous)
            return RunAsynchronously(strategy as IAsynchronousStrategy
                ?? throw new ArgumentException($"{strategy.Name} cannot run asynchronously: it proposes in batches"), budget, cancel);
        IDiscreteSpace space = strategy.Space;
        double cost = 0;
        if (store is not null)
        {
            if (strategy.History.Count != 0) throw new InvalidOperationException($"{strategy.Name}: resuming from a store needs a fresh strategy");
            // Replay whole batches only: the next batch's proposals must come from the state its first sample saw.
            var history = LoadHistory(store, space, FailedReward);
            int replayed = history.Count / ChildrenPerUpdate * ChildrenPerUpdate;
            foreach ((DiscreteObservation o, double c) in history.Take(replayed))
            {
                strategy.Observe(o.Sample, o.Reward);
                cost += c;
                Observed?.Invoke(strategy.History.Count - 1, o, true);
            }
        }
        var ours = new HashSet<string>(StringComparer.Ordinal);   // trials this process evaluated
        TrialWorker? worker = null;
        if (store is not null)
        {
            worker = new TrialWorker(store, Lease, TrialWorker.OwnerName("coordinator"));
            worker.Leased += t => Leased?.Invoke(t);
            worker.Ended += t => { if (t.Status == TrialStatus.Completed && t.LeaseOwner == worker.Owner) ours.Add(t.Key); };
        }
        while (budget.Allows(strategy.History.Count, cost))
        {
            cancel.ThrowIfCancellationRequested();
            int start = strategy.History.Count;
            int count = budget.MaxQueries is int max ? Math.Min(ChildrenPerUpdate, max - start) : ChildrenPerUpdate;
            int[][] samples = Enumerable.Range(start, count).Select(strategy.ProposeAt).ToArray();
            var outcomes = new (DiscreteObservation Observation, double Cost, bool FromStore)[count];
            if (store is null)
            {
                for (int j = 0; j < count; j++)
                {
                    cancel.ThrowIfCancellationRequested();
                    DiscreteEvaluation e = evaluator.Evaluate(samples[j], cancel);
                    outcomes[j] = (new DiscreteObservation(samples[j], e.Reward), e.Cost, false);
                    ours.Add(TrialKey(start + j));
                }
            }
            else
            {
                string[] keys = Enumerable.Range(start, count).Select(TrialKey).ToArray();
                for (int j = 0; j < count; j++) Enqueue(space, keys[j], samples[j]);
                Dictionary<string, Trial> done = RunBatch(worker!, space, keys, cancel);
                for (int j = 0; j < count; j++)
                {
                    (DiscreteObservation o, double c) = Outcome(done[keys[j]], space, FailedReward);
                    outcomes[j] = (o, c, !ours.Contains(keys[j]));
                }
            }
            for (int j = 0; j < count; j++)
            {
                strategy.Observe(outcomes[j].Observation.Sample, outcomes[j].Observation.Reward);
                cost += outcomes[j].Cost;
                Observed?.Invoke(start + j, strategy.History[start + j], outcomes[j].FromStore);
            }
        }
        return new DiscreteSearchResult(strategy.History, BestIndex(strategy.History), cost, ours.Count);
    }

    private static bool Finished(Trial t) => (t.Status is TrialStatus.Completed or TrialStatus.Pruned && t.Metrics is not null) || t.Status == TrialStatus.Failed;

    private static int SampleNumber(string key) => int.Parse(key.AsSpan("sample/".Length), CultureInfo.InvariantCulture);

    private DiscreteSearchResult RunAsynchronously(IAsynchronousStrategy async, DiscreteBudget budget, CancellationToken cancel)
    {
        IDiscreteSpace space = strategy.Space;
        if (strategy.History.Count != 0) throw new InvalidOperationException($"{strategy.Name}: an asynchronous search needs a fresh strategy");
        double cost = 0;
        int next = 0;
        var inFlight = new List<(string Key, int[] Sample)>();   // proposed, not observed yet, in sample order
        var ours = new HashSet<string>(StringComparer.Ordinal);
        void Observe(string key, DiscreteObservation o, double c, bool fromStore)
        {
            strategy.Observe(o.Sample, o.Reward);
            cost += c;
            inFlight.RemoveAll(f => f.Key == key);
            Observed?.Invoke(SampleNumber(key), strategy.History[^1], fromStore);
        }
        TrialWorker? worker = null;
        if (store is not null)
        {
            // Replay: the samples in the store are 0 … n−1; the finished ones are observed in the order they finished.
            List<Trial> samples = store.All().Where(t => t.Role == Role).ToList();
            for (int i = 0; i < samples.Count; i++)
                if (samples[i].Key != TrialKey(i))
                    throw new InvalidDataException($"trial {samples[i].Key} in the store where {TrialKey(i)} was expected: the run folder belongs to another search");
            next = samples.Count;
            foreach (Trial t in samples) inFlight.Add((t.Key, ReadSample(t.Genotype, space, t.Key)));
            foreach (Trial t in samples.Where(Finished).OrderBy(t => t.FinishedUtc).ThenBy(t => t.Id))
            {
                (DiscreteObservation o, double c) = Outcome(t, space, FailedReward);
                Observe(t.Key, o, c, fromStore: true);
            }
            worker = new TrialWorker(store, Lease, TrialWorker.OwnerName("coordinator"));
            worker.Leased += t => Leased?.Invoke(t);
            worker.Ended += t => { if (t.Status is TrialStatus.Completed or TrialStatus.Pruned && t.LeaseOwner == worker.Owner) ours.Add(t.Key); };
        }
        while (true)
        {
            cancel.ThrowIfCancellationRequested();
            while (inFlight.Count < ChildrenPerUpdate && budget.Allows(next, cost))
            {
                int[] sample = async.ProposeAsynchronously(next);
                string key = TrialKey(next++);
                if (store is not null) Enqueue(space, key, sample);
                inFlight.Add((key, sample));
            }
            if (inFlight.Count == 0) break;
            if (store is null)
            {
                // Alone without a store: evaluate the oldest open sample, as this process does alone with a store.
                (string key, int[] sample) = inFlight[0];
                DiscreteEvaluation e = evaluator.Evaluate(sample, cancel);
                ours.Add(key);
                Observe(key, new DiscreteObservation(sample, e.Reward), e.Cost, fromStore: false);
                continue;
            }
            // Observe the trial that finished first (then propose its replacement), else evaluate an open one or wait.
            var open = inFlight.Select(f => f.Key).ToHashSet(StringComparer.Ordinal);
            Trial? done = store.All().Where(t => open.Contains(t.Key) && Finished(t)).OrderBy(t => t.FinishedUtc).ThenBy(t => t.Id).FirstOrDefault();
            if (done is not null)
            {
                (DiscreteObservation o, double c) = Outcome(done, space, FailedReward);
                Observe(done.Key, o, c, fromStore: !ours.Contains(done.Key));
                continue;
            }
            if (worker!.RunOne((t, c) => EvaluateTrial(evaluator, space, t, c), cancel) is null)
                cancel.WaitHandle.WaitOne(Lease.Poll);
        }
        return new DiscreteSearchResult(strategy.History, BestIndex(strategy.History), cost, ours.Count);
    }

    private void Enqueue(IDiscreteSpace space, string key, int[] sample)
    {
        JsonObject genotype = Genotype(space, sample);
        JsonObject config = TrialConfig?.DeepClone().AsObject() ?? [];
        config["strategy"] = strategy.Name;
        Trial trial = store!.GetOrAdd(key, Role, genotype, config, ArtifactDir?.Invoke(sample));
        if (trial.Genotype["key"]?.GetValue<string>() != space.Key(sample))
            throw new InvalidDataException($"trial {key} in the store is {trial.Genotype.ToJsonString()}, the search now proposes {genotype.ToJsonString()}: the run folder belongs to another search or seed");
    }

    /// <summary>Evaluates queued trials (leasing them like any worker) until every trial of <paramref name="keys"/> is
    /// completed, failed or pruned; waits while other processes hold them.</summary>
    private Dictionary<string, Trial> RunBatch(TrialWorker worker, IDiscreteSpace space, string[] keys, CancellationToken cancel)
    {
        var wanted = new HashSet<string>(keys, StringComparer.Ordinal);
        while (true)
        {
            cancel.ThrowIfCancellationRequested();
            var rows = store!.All().Where(t => wanted.Contains(t.Key)).ToDictionary(t => t.Key, StringComparer.Ordinal);
            if (rows.Count == keys.Length && rows.Values.All(t => t.Status is TrialStatus.Completed or TrialStatus.Failed or TrialStatus.Pruned)) return rows;
            if (worker.RunOne((t, c) => EvaluateTrial(evaluator, space, t, c), cancel) is null)
                cancel.WaitHandle.WaitOne(Lease.Poll);
        }
    }

    /// <summary>Index of the highest reward (the earliest on ties); −1 for an empty history.</summary>
    public static int BestIndex(IReadOnlyList<DiscreteObservation> history)
    {
        int best = -1;
        for (int i = 0; i < history.Count; i++)
            if (best < 0 || history[i].Reward > history[best].Reward) best = i;
        return best;
    }
}
