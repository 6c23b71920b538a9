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
/// Runs a <see cref="IDiscreteStrategy"/> against an evaluator, durably: each sample is a trial
/// <c>sample/000123</c> in the store, completed before the next is proposed. Started on a store that already holds
/// completed samples, it replays them into the (fresh) strategy and continues where the killed run stopped.
/// </summary>
public sealed class DiscreteSearch(IDiscreteStrategy strategy, IDiscreteEvaluator evaluator, ITrialStore? store = null)
{
    /// <summary>Trial role of the samples.</summary>
    public const string Role = "sample";

    /// <summary>Called after each evaluation (also for replayed ones: <c>fromStore</c> true) with its number.</summary>
    public event Action<int, DiscreteObservation, bool>? Observed;

    /// <summary>The trial key of sample number <paramref name="index"/>.</summary>
    public static string TrialKey(int index) => "sample/" + index.ToString("D6", CultureInfo.InvariantCulture);

    /// <summary>The completed (or pruned) samples of a store, in sample order, with their costs; stops at the first gap.</summary>
    public static IReadOnlyList<(DiscreteObservation Observation, double Cost)> LoadHistory(ITrialStore store, IDiscreteSpace space)
    {
        var byKey = store.All().Where(t => t.Role == Role && t.Status is (TrialStatus.Completed or TrialStatus.Pruned) && t.Metrics is not null)
            .ToDictionary(t => t.Key, StringComparer.Ordinal);
        var result = new List<(DiscreteObservation, double)>();
        for (int i = 0; byKey.TryGetValue(TrialKey(i), out Trial? t); i++)
        {
            int[] sample = ReadSample(t.Genotype, space, t.Key);
            double reward = t.Metrics!["reward"]?.GetValue<double>() ?? throw new InvalidDataException($"trial {t.Key}: metrics lack \"reward\"");
            double cost = t.Metrics["cost"]?.GetValue<double>() ?? 0;
            result.Add((new DiscreteObservation(sample, reward), cost));
        }
        return result;
    }

    private static int[] ReadSample(JsonObject genotype, IDiscreteSpace space, string key)
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

    /// <summary>Runs until the budget is spent (counting replayed samples) and returns the whole history.</summary>
    public DiscreteSearchResult Run(DiscreteBudget budget, CancellationToken cancel = default)
    {
        budget.Validate();
        IDiscreteSpace space = strategy.Space;
        double cost = 0;
        if (store is not null)
        {
            if (strategy.History.Count != 0) throw new InvalidOperationException($"{strategy.Name}: resuming from a store needs a fresh strategy");
            foreach ((DiscreteObservation o, double c) in LoadHistory(store, space))
            {
                strategy.Observe(o.Sample, o.Reward);
                cost += c;
                Observed?.Invoke(strategy.History.Count - 1, o, true);
            }
        }
        int evaluated = 0;
        while (budget.Allows(strategy.History.Count, cost))
        {
            cancel.ThrowIfCancellationRequested();
            int index = strategy.History.Count;
            int[] sample = strategy.Propose();
            string key = TrialKey(index);
            if (store is not null)
            {
                JsonObject genotype = Genotype(space, sample);
                Trial trial = store.GetOrAdd(key, Role, genotype, new JsonObject { ["strategy"] = strategy.Name });
                if (trial.Genotype["key"]?.GetValue<string>() != space.Key(sample))
                    throw new InvalidDataException($"trial {key} in the store is {trial.Genotype.ToJsonString()}, the search now proposes {genotype.ToJsonString()}: the run folder belongs to another search or seed");
                store.Start(key, "");
            }
            DiscreteEvaluation e;
            try { e = evaluator.Evaluate(sample, cancel); }
            catch (OperationCanceledException) { throw; }
            catch (Exception ex) when (store is not null)
            {
                store.Fail(key, ex.Message);
                throw;
            }
            if (store is not null)
            {
                JsonObject metrics = e.Metrics?.DeepClone().AsObject() ?? [];
                metrics["reward"] = e.Reward;
                metrics["cost"] = e.Cost;
                if (e.Pruned) store.Prune(key, metrics); else store.Complete(key, metrics);
            }
            strategy.Observe(sample, e.Reward);
            cost += e.Cost;
            evaluated++;
            Observed?.Invoke(index, strategy.History[index], false);
        }
        return new DiscreteSearchResult(strategy.History, BestIndex(strategy.History), cost, evaluated);
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
