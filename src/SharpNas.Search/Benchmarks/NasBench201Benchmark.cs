using System.Diagnostics;
using System.Text.Json.Nodes;
using SharpNas.Engine;
using SharpNas.Search.Spaces;
using SharpNas.Search.Strategies.Discrete;
using SharpNas.Search.Strategies.Evolution;
using SharpNas.Search.Strategies.RandomSearch;
using SharpNas.Search.Strategies.Reinforce;

namespace SharpNas.Search.Benchmarks;

/// <summary>A strategy to compare on NAS-Bench-201: a name, how to build it for a run, and the paper's figure.</summary>
public sealed record NasBench201Entrant(string Name, Func<IDiscreteSpace, ulong, IDiscreteStrategy> Create, double? PaperTestAccuracy);

/// <summary>The pick of one search run.</summary>
public sealed record NasBench201Pick(int Run, ulong Seed, int Index, string Arch, double Reward, double TestAccuracy, double ValidAccuracy,
    int Queries, double SimulatedSeconds);

/// <summary>The mean best-so-far test accuracy (of the best-reward cell so far) at a simulated time, over runs.</summary>
public sealed record NasBench201CurvePoint(double Seconds, double TestAccuracyMean);

/// <summary>One strategy's result over all runs: mean ± std (n − 1) of the reported test accuracy (%), the mean
/// 200-epoch validation accuracy and number of queries, the paper's figure, wall time, each run's pick and the curve.</summary>
public sealed record NasBench201StrategyResult(string Strategy, int Runs, double TestAccuracyMean, double TestAccuracyStd,
    double ValidAccuracyMean, double QueriesMean, double? PaperTestAccuracy, double WallSeconds,
    IReadOnlyList<NasBench201Pick> Picks, IReadOnlyList<NasBench201CurvePoint> Curve);

/// <summary>
/// Runs independent searches of each strategy on the NAS-Bench-201 table under a <see cref="NasBench201Protocol"/>.
/// Run r of every strategy gets the seed <c>Derive("run", r)</c> of the base seed; runs are spread over the cores and
/// give the same result whatever the thread count.
/// </summary>
public static class NasBench201Benchmark
{
    /// <summary>The NAS-Bench-201 paper's CIFAR-10 test accuracies (mean over 500 runs, NOTES §4).</summary>
    public static IReadOnlyDictionary<string, double> PaperTestAccuracy { get; } =
        new Dictionary<string, double> { ["evolution"] = 93.92, ["reinforce"] = 93.85, ["random"] = 93.70 };

    /// <summary>Settings tuned on this table (see docs/results.md, "NAS-Bench-201").</summary>
    public static EvolutionOptions EvolutionSettings { get; } = new() { Population = 10, SampleSize = 3 };

    /// <inheritdoc cref="EvolutionSettings"/>
    public static ReinforceOptions ReinforceSettings { get; } = new() { LearningRate = 0.005, BaselineDecay = 0.95, EntropyWeight = 1e-4 };

    /// <inheritdoc cref="EvolutionSettings"/>
    public static ReinforceOptions PpoSettings { get; } = ReinforceSettings with { Algorithm = PolicyGradient.Ppo, BatchSize = 10, MinibatchSize = 10, PpoEpochs = 4 };

    /// <summary>The strategies by name: <c>reinforce</c>, <c>ppo</c>, <c>evolution</c>, <c>random</c>; <c>all</c> gives all four.</summary>
    public static IReadOnlyList<NasBench201Entrant> Entrants(string name, EvolutionOptions? evolution = null, ReinforceOptions? reinforce = null,
        ReinforceOptions? ppo = null)
    {
        EvolutionOptions ev = evolution ?? EvolutionSettings;
        ReinforceOptions rf = reinforce ?? ReinforceSettings, pp = ppo ?? PpoSettings;
        var all = new List<NasBench201Entrant>
        {
            new("evolution", (s, seed) => new RegularizedEvolution(s, seed, ev), PaperTestAccuracy["evolution"]),
            new("reinforce", (s, seed) => new ReinforceStrategy(s, seed, rf with { Algorithm = PolicyGradient.Reinforce }), PaperTestAccuracy["reinforce"]),
            new("ppo", (s, seed) => new ReinforceStrategy(s, seed, pp with { Algorithm = PolicyGradient.Ppo }), null),
            new("random", (s, seed) => new RandomSearchStrategy(s, seed), PaperTestAccuracy["random"]),
        };
        if (name == "all") return all;
        NasBench201Entrant? one = all.FirstOrDefault(e => e.Name == name);
        return one is null
            ? throw new ArgumentException($"--strategy {name}: expected one of reinforce, ppo, evolution, random, all")
            : [one];
    }

    /// <summary>Runs <paramref name="runs"/> searches of one strategy and summarises them.</summary>
    public static NasBench201StrategyResult Run(NasBench201Table table, NasBench201Protocol protocol, NasBench201Entrant entrant, int runs, ulong seed,
        int? maxThreads = null, CancellationToken cancel = default)
    {
        protocol.Validate(table);
        if (runs < 1) throw new ArgumentOutOfRangeException(nameof(runs), $"--runs must be ≥ 1, found {runs}");
        var evaluator = new NasBench201Evaluator(table, protocol);
        var picks = new NasBench201Pick[runs];
        var histories = new (double Seconds, double Test)[runs][];
        var root = new SeededRandom(seed);
        var watch = Stopwatch.StartNew();
        Parallel.For(0, runs, new ParallelOptions { MaxDegreeOfParallelism = maxThreads ?? Environment.ProcessorCount, CancellationToken = cancel }, r =>
        {
            ulong runSeed = root.Derive("run", r).Seed;
            IDiscreteStrategy strategy = entrant.Create(NasBench201Space.Instance, runSeed);
            var search = new DiscreteSearch(strategy, evaluator);
            var trace = new List<(double, double)>();
            double clock = 0, bestReward = double.NegativeInfinity, bestTest = 0;
            search.Observed += (_, o, _) =>
            {
                clock += evaluator.Cost(o.Sample);
                if (o.Reward > bestReward) { bestReward = o.Reward; bestTest = table.Value(protocol.TestColumn, o.Sample); }
                trace.Add((clock, bestTest));
            };
            DiscreteSearchResult result = search.Run(protocol.Budget, cancel);
            int[] best = result.Best.Sample;
            picks[r] = new NasBench201Pick(r, runSeed, table.Index(best), table.Arch(best), result.Best.Reward,
                table.Value(protocol.TestColumn, best), table.Value(protocol.ValidColumn, best), result.History.Count, result.TotalCost);
            histories[r] = [.. trace];
        });
        double wall = watch.Elapsed.TotalSeconds;
        double[] tests = picks.Select(p => p.TestAccuracy).ToArray();
        double mean = tests.Average();
        double std = runs > 1 ? Math.Sqrt(tests.Sum(t => (t - mean) * (t - mean)) / (runs - 1)) : 0;
        return new NasBench201StrategyResult(entrant.Name, runs, mean, std, picks.Average(p => p.ValidAccuracy), picks.Average(p => (double)p.Queries),
            entrant.PaperTestAccuracy, wall, picks, Curve(histories, protocol));
    }

    private static List<NasBench201CurvePoint> Curve((double Seconds, double Test)[][] histories, NasBench201Protocol protocol)
    {
        double end = protocol.Budget.MaxCost ?? histories.Max(h => h.Length == 0 ? 0 : h[^1].Seconds);
        const int points = 24;
        var curve = new List<NasBench201CurvePoint>(points);
        for (int k = 1; k <= points; k++)
        {
            double t = end * k / points, sum = 0;
            int counted = 0;
            foreach (var h in histories)
            {
                int i = -1;
                while (i + 1 < h.Length && h[i + 1].Seconds <= t) i++;
                if (i < 0) continue;
                sum += h[i].Test;
                counted++;
            }
            if (counted > 0) curve.Add(new NasBench201CurvePoint(t, sum / counted));
        }
        return curve;
    }

    /// <summary>The JSON form of results (snake_case): per strategy the means, stds, paper figure, wall seconds, each
    /// run's pick and the curve; plus the protocol and the command's settings.</summary>
    public static JsonObject ToJson(IReadOnlyList<NasBench201StrategyResult> results, NasBench201Protocol protocol, JsonObject settings)
    {
        var strategies = new JsonArray();
        foreach (NasBench201StrategyResult r in results)
        {
            strategies.Add(new JsonObject
            {
                ["strategy"] = r.Strategy, ["runs"] = r.Runs,
                ["test_acc_mean"] = Math.Round(r.TestAccuracyMean, 4), ["test_acc_std"] = Math.Round(r.TestAccuracyStd, 4),
                ["valid_acc_mean"] = Math.Round(r.ValidAccuracyMean, 4), ["queries_mean"] = Math.Round(r.QueriesMean, 2),
                ["paper_test_acc"] = r.PaperTestAccuracy, ["wall_seconds"] = Math.Round(r.WallSeconds, 3),
                ["picks"] = new JsonArray(r.Picks.Select(p => (JsonNode)new JsonObject
                {
                    ["run"] = p.Run, ["seed"] = p.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture), ["index"] = p.Index, ["arch"] = p.Arch,
                    ["reward"] = Math.Round(p.Reward, 6), ["test_acc"] = p.TestAccuracy, ["valid_acc"] = p.ValidAccuracy,
                    ["queries"] = p.Queries, ["simulated_seconds"] = Math.Round(p.SimulatedSeconds, 2),
                }).ToArray()),
                ["curve"] = new JsonArray(r.Curve.Select(c => (JsonNode)new JsonObject
                {
                    ["seconds"] = Math.Round(c.Seconds, 1), ["test_acc_mean"] = Math.Round(c.TestAccuracyMean, 4),
                }).ToArray()),
            });
        }
        return new JsonObject
        {
            ["benchmark"] = "nas-bench-201",
            ["protocol"] = new JsonObject
            {
                ["reward_column"] = protocol.RewardColumn, ["test_column"] = protocol.TestColumn, ["valid_column"] = protocol.ValidColumn,
                ["time_column"] = protocol.TimeColumn, ["epochs_per_query"] = protocol.EpochsPerQuery,
                ["budget_seconds"] = protocol.Budget.MaxCost, ["budget_queries"] = protocol.Budget.MaxQueries,
            },
            ["settings"] = settings,
            ["strategies"] = strategies,
        };
    }

    /// <summary>A Markdown table of results.</summary>
    public static string ToMarkdown(IReadOnlyList<NasBench201StrategyResult> results, NasBench201Protocol protocol, string command)
    {
        var ci = System.Globalization.CultureInfo.InvariantCulture;
        var sb = new System.Text.StringBuilder();
        sb.AppendLine("# NAS-Bench-201 strategy comparison").AppendLine();
        sb.AppendLine(ci, $"`{command}`").AppendLine();
        sb.AppendLine(ci, $"Reward `{protocol.RewardColumn}`, cost {protocol.EpochsPerQuery} × `{protocol.TimeColumn}`, budget " +
            $"{(protocol.Budget.MaxCost is double s ? s.ToString("0", ci) + " simulated s" : "")}{(protocol.Budget.MaxCost is not null && protocol.Budget.MaxQueries is not null ? " or " : "")}" +
            $"{(protocol.Budget.MaxQueries is int q ? q.ToString(ci) + " queries" : "")}; reported `{protocol.TestColumn}` of the best-reward cell.").AppendLine();
        sb.AppendLine("| strategy | runs | test acc. (%) mean ± std | paper | Δ | valid acc. (%) | queries | wall s |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (NasBench201StrategyResult r in results)
        {
            string paper = r.PaperTestAccuracy is double p ? p.ToString("0.00", ci) : "—";
            string delta = r.PaperTestAccuracy is double p2 ? (r.TestAccuracyMean - p2).ToString("+0.00;−0.00;0.00", ci) : "—";
            sb.AppendLine(ci, $"| {r.Strategy} | {r.Runs} | {r.TestAccuracyMean:0.00} ± {r.TestAccuracyStd:0.00} | {paper} | {delta} | {r.ValidAccuracyMean:0.00} | {r.QueriesMean:0.0} | {r.WallSeconds:0.0} |");
        }
        return sb.ToString();
    }
}
