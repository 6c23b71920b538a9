using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using SharpNas.Search.Benchmarks;
using SharpNas.Search.Strategies.Discrete;
using SharpNas.Search.Strategies.Evolution;
using SharpNas.Search.Strategies.Reinforce;

namespace SharpNas.Cli.Commands;

/// <summary><c>sharpnas bench nb201</c>: compares search strategies on the NAS-Bench-201 table under the paper's protocol.</summary>
internal static class BenchNb201Command
{
    public static Command Create()
    {
        var strategy = new Option<string>("--strategy") { Description = "reinforce, ppo, evolution, random or all", DefaultValueFactory = _ => "all" };
        var runs = new Option<int>("--runs") { Description = "independent searches per strategy", DefaultValueFactory = _ => 100 };
        var seed = new Option<ulong>("--seed") { Description = "base seed (run r uses a seed derived from it)", DefaultValueFactory = _ => 0UL };
        var budget = new Option<int?>("--budget", "--budget-queries") { Description = "queries per search (replaces the default 12,000 s budget unless --budget-seconds is given)" };
        var budgetSeconds = new Option<double?>("--budget-seconds") { Description = "simulated training seconds per search (default 12000)" };
        var benchmarks = new Option<string?>("--benchmarks") { Description = "benchmarks folder holding nas-bench-201/nas-bench-201.csv (default $SHARPNAS_BENCHMARKS, else ../shared/benchmarks)" };
        var table = new Option<string?>("--table") { Description = "the NAS-Bench-201 CSV itself (overrides --benchmarks)" };
        var rewardColumn = new Option<string>("--reward-column") { Description = "column rewarded", DefaultValueFactory = _ => new NasBench201Protocol().RewardColumn };
        var outPath = new Option<string>("--out") { Description = "output folder (results.json, results.md), or a .json file", DefaultValueFactory = _ => Path.Combine("runs", "nb201") };
        var threads = new Option<int?>("--threads") { Description = "runs in parallel (default: all cores)" };
        var population = new Option<int?>("--population") { Description = $"evolution: population P (default {NasBench201Benchmark.EvolutionSettings.Population})" };
        var sampleSize = new Option<int?>("--sample-size") { Description = $"evolution: tournament size S (default {NasBench201Benchmark.EvolutionSettings.SampleSize})" };
        var lr = new Option<double?>("--lr") { Description = $"controller: Adam learning rate (default {NasBench201Benchmark.ReinforceSettings.LearningRate.ToString(CultureInfo.InvariantCulture)})" };
        var baselineDecay = new Option<double?>("--baseline-decay") { Description = $"controller: reward baseline decay (default {NasBench201Benchmark.ReinforceSettings.BaselineDecay.ToString(CultureInfo.InvariantCulture)})" };
        var entropy = new Option<double?>("--entropy-weight") { Description = $"controller: entropy bonus weight (default {NasBench201Benchmark.ReinforceSettings.EntropyWeight.ToString(CultureInfo.InvariantCulture)})" };
        var cmd = new Command("nb201", "compare search strategies on the NAS-Bench-201 table (the paper's protocol by default)")
        {
            strategy, runs, seed, budget, budgetSeconds, benchmarks, table, rewardColumn, outPath, threads, population, sampleSize, lr, baselineDecay, entropy,
        };
        cmd.SetAction(p => CommandRunner.Run(cancel =>
        {
            string csv = p.GetValue(table) ?? Path.Combine(NasBench201Table.ResolveDirectory(p.GetValue(benchmarks)), NasBench201Table.RelativePath);
            NasBench201Table nb = NasBench201Table.Load(csv);
            int? queries = p.GetValue(budget);
            double? seconds = p.GetValue(budgetSeconds) ?? (queries is null ? 12000 : null);
            var protocol = new NasBench201Protocol { RewardColumn = p.GetValue(rewardColumn)!, Budget = new DiscreteBudget(queries, seconds) };
            protocol.Validate(nb);

            EvolutionOptions ev = NasBench201Benchmark.EvolutionSettings with
            {
                Population = p.GetValue(population) ?? NasBench201Benchmark.EvolutionSettings.Population,
                SampleSize = p.GetValue(sampleSize) ?? NasBench201Benchmark.EvolutionSettings.SampleSize,
            };
            ReinforceOptions Tune(ReinforceOptions o) => o with
            {
                LearningRate = p.GetValue(lr) ?? o.LearningRate,
                BaselineDecay = p.GetValue(baselineDecay) ?? o.BaselineDecay,
                EntropyWeight = p.GetValue(entropy) ?? o.EntropyWeight,
            };
            ReinforceOptions rf = Tune(NasBench201Benchmark.ReinforceSettings), pp = Tune(NasBench201Benchmark.PpoSettings);
            ev.Validate(); rf.Validate(); pp.Validate();
            var entrants = NasBench201Benchmark.Entrants(p.GetValue(strategy)!, ev, rf, pp);
            int runCount = p.GetValue(runs);
            ulong baseSeed = p.GetValue(seed);

            var results = new List<NasBench201StrategyResult>();
            foreach (NasBench201Entrant entrant in entrants)
            {
                Console.Error.WriteLine($"nb201: {entrant.Name}, {runCount} runs…");
                results.Add(NasBench201Benchmark.Run(nb, protocol, entrant, runCount, baseSeed, p.GetValue(threads), cancel));
            }

            var t = new Table().AddColumns("strategy", "runs", "test acc. (%)", "paper", "Δ", "valid acc. (%)", "queries", "wall s");
            foreach (NasBench201StrategyResult r in results)
                t.AddRow(r.Strategy, r.Runs.ToString(CultureInfo.InvariantCulture),
                    string.Create(CultureInfo.InvariantCulture, $"{r.TestAccuracyMean:0.00} ± {r.TestAccuracyStd:0.00}"),
                    r.PaperTestAccuracy?.ToString("0.00", CultureInfo.InvariantCulture) ?? "—",
                    r.PaperTestAccuracy is double paper ? (r.TestAccuracyMean - paper).ToString("+0.00;-0.00;0.00", CultureInfo.InvariantCulture) : "—",
                    r.ValidAccuracyMean.ToString("0.00", CultureInfo.InvariantCulture), r.QueriesMean.ToString("0.0", CultureInfo.InvariantCulture),
                    r.WallSeconds.ToString("0.0", CultureInfo.InvariantCulture));
            AnsiConsole.Write(t);

            string command = "sharpnas bench nb201 " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1).SkipWhile(a => a != "nb201").Skip(1));
            var settings = new JsonObject
            {
                ["runs"] = runCount, ["seed"] = baseSeed.ToString(CultureInfo.InvariantCulture),
                ["evolution"] = new JsonObject { ["population"] = ev.Population, ["sample_size"] = ev.SampleSize },
                ["reinforce"] = Settings(rf), ["ppo"] = Settings(pp),
            };
            string target = p.GetValue(outPath)!;
            bool isFile = target.EndsWith(".json", StringComparison.OrdinalIgnoreCase);
            string jsonPath = isFile ? target : Path.Combine(target, "results.json");
            string mdPath = isFile ? Path.ChangeExtension(target, ".md") : Path.Combine(target, "results.md");
            string? folder = Path.GetDirectoryName(Path.GetFullPath(jsonPath));
            if (folder is not null) Directory.CreateDirectory(folder);
            WriteAtomically(jsonPath, NasBench201Benchmark.ToJson(results, protocol, settings).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            WriteAtomically(mdPath, NasBench201Benchmark.ToMarkdown(results, protocol, command));
            if (!isFile) Search.Reports.SearchRunReport.Write(target);   // report.html beside results.json
            Console.WriteLine($"wrote {jsonPath} and {mdPath}");
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    private static JsonObject Settings(ReinforceOptions o) => new()
    {
        ["learning_rate"] = o.LearningRate, ["baseline_decay"] = o.BaselineDecay, ["entropy_weight"] = o.EntropyWeight,
        ["batch_size"] = o.BatchSize, ["ppo_epochs"] = o.PpoEpochs, ["minibatch_size"] = o.MinibatchSize, ["clip_epsilon"] = o.ClipEpsilon,
        ["hidden_size"] = o.Controller.HiddenSize, ["embedding_size"] = o.Controller.EmbeddingSize, ["init_range"] = o.Controller.InitRange,
        ["temperature"] = o.Controller.Temperature, ["tanh_constant"] = o.Controller.TanhConstant,
    };

    private static void WriteAtomically(string path, string text)
    {
        string tmp = path + ".tmp";
        File.WriteAllText(tmp, text);
        File.Move(tmp, path, overwrite: true);
    }
}
