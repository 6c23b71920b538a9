using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using SharpNas.Cli.Display;
using SharpNas.Data;
using SharpNas.Search.Evaluators;
using SharpNas.Search.Genotypes;
using SharpNas.Search.Pruning;
using SharpNas.Search.Spaces.Epnas;
using SharpNas.Search.Strategies.Epnas;
using SharpNas.Search.Trials;
using SharpNas.Training;

namespace SharpNas.Cli.Commands;

/// <summary><c>sharpnas search epnas</c>: EPNAS, a progressive REINFORCE policy that scales, inserts and removes layers
/// (or cell branches) under soft resource constraints.</summary>
internal static class SearchEpnasCommand
{
    public static Command Create()
    {
        var pattern = new Option<string>("--pattern") { Description = "layer (layer-by-layer) or module (a cell)", DefaultValueFactory = _ => "layer" };
        var maxParams = new Option<string?>("--max-params") { Description = "upper bound on parameters, e.g. 300K or 2M" };
        var maxFlops = new Option<string?>("--max-flops") { Description = "upper bound on multiply-adds, e.g. 30M" };
        var minIntensity = new Option<double?>("--min-intensity") { Description = "lower bound on FLOPs per byte moved" };
        var episodes = new Option<int>("--episodes") { Description = "episodes", DefaultValueFactory = _ => 2 };
        var steps = new Option<int>("--steps") { Description = "steps per branch and episode", DefaultValueFactory = _ => 3 };
        var branches = new Option<int>("--branches") { Description = "parallel branches", DefaultValueFactory = _ => 2 };
        var topK = new Option<int>("--top-k") { Description = "children of an episode that seed the next", DefaultValueFactory = _ => 2 };
        var childEpochs = new Option<int>("--child-epochs") { Description = "training epochs of every child", DefaultValueFactory = _ => 1 };
        var strategy = new Option<string>("--strategy") { Description = "epnas or random (random actions from the same seeds)", DefaultValueFactory = _ => "epnas" };
        var outDir = new Option<string?>("--out") { Description = "run folder (default runs/epnas-PATTERN-sSEED); rerunning resumes" };
        var cmd = new Command("epnas", "EPNAS: grow networks layer by layer (or a cell) under resource constraints")
        {
            pattern, maxParams, maxFlops, minIntensity, episodes, steps, branches, topK, childEpochs, strategy, outDir,
        };
        var common = new SearchDataOptions(defaultSubset: 2000, batch: 64, lr: 0.05, seed: 1);
        common.AddTo(cmd);
        var prune = new SearchPruneOptions();
        prune.AddTo(cmd);
        var storeOptions = new StoreOptions();
        storeOptions.AddTo(cmd);
        cmd.SetAction(p => CommandRunner.Run(cancel =>
        {
            ulong runSeed = p.GetValue(common.Seed);
            var constraints = new EpnasConstraints(ParseCount(p.GetValue(maxParams), "--max-params"), ParseCount(p.GetValue(maxFlops), "--max-flops"),
                p.GetValue(minIntensity)).Validated();
            EpnasStrategy strat = p.GetValue(strategy)!.Trim().ToLowerInvariant() switch
            {
                "epnas" => EpnasStrategy.Epnas,
                "random" => EpnasStrategy.Random,
                var s => throw new ArgumentException($"--strategy {s}: expected epnas or random"),
            };
            IPruner? pruner = prune.Create(p);
            (DataSpec spec, TrainingData trainingData) = common.Load(p);
            string patternName = p.GetValue(pattern)!.Trim().ToLowerInvariant();
            string dir = p.GetValue(outDir) ?? Path.Combine("runs", $"epnas-{patternName}-s{runSeed.ToString(CultureInfo.InvariantCulture)}");
            Directory.CreateDirectory(dir);
            TrainerOptions trainerOptions = common.Trainer(p, p.GetValue(childEpochs));
            var display = new SearchDisplay();
            using ITrialStore store = storeOptions.Open(p, dir, "epnas");
            TrialPruning? pruning = SearchPruneOptions.Attach(pruner, store, trainingData);
            if (pruning is not null) pruning.Pruned += (r, e, d) => display.Line($"child {r.Key} stopped after epoch {e}: {d.Reason}");
            var evaluator = new TrainingEvaluator(trainingData, spec.ToString(), trainerOptions, new CostSettings { LatencyRuns = 0 }, scorer: null, pruning);
            evaluator.Progress += (_, progress) => display.Training(progress);
            var runner = new TrialRunner(store, evaluator, dir);
            runner.Started += t => display.TrialStarted(t.Key, "EPNAS child");
            display.Line($"EPNAS ({strat}, {patternName} pattern) on {spec}: {p.GetValue(episodes)} episodes × {p.GetValue(steps)} steps × {p.GetValue(branches)} branches, {trainerOptions.Epochs} epoch(s) per child{(pruner is null ? "" : $" (pruning: {pruner.Name})")} → {dir}");
            InputSpec input = trainingData.Input;
            int top = p.GetValue(topK);
            JsonObject results = patternName switch
            {
                "layer" => Run(new EpnasLayerActions(input), [EpnasSeeds.MinimalLayerNetwork()]),
                "module" => Run(new EpnasModuleActions(), [EpnasSeeds.MinimalCell()]),
                _ => throw new ArgumentException($"--pattern {patternName}: expected layer or module"),
            };
            results["constraints"] = new JsonObject { ["max_params"] = constraints.MaxParams, ["max_flops"] = constraints.MaxFlops, ["min_intensity"] = constraints.MinIntensity, ["base_penalty"] = constraints.BasePenalty };
            results["episodes"] = p.GetValue(episodes);
            results["strategy"] = strat.ToString().ToLowerInvariant();
            results["prune"] = pruner?.Name ?? "none";
            results["trials_pruned"] = store.All().Count(t => t.Status == TrialStatus.Pruned);
            results["epochs_trained"] = SearchPruneOptions.EpochsTrained(store.All());
            TrainingRun.WriteAtomically(Path.Combine(dir, "results.json"), results.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
            string reportFile = StoreOptions.WriteReport(dir, store, p);
            Console.WriteLine($"wrote {Path.Combine(dir, "results.md")}, results.json, top-*/arch.json{reportFile}, trials.db");
            return ExitCodes.Ok;

            JsonObject Run<TG>(IEpnasActionSpace<TG> space, IReadOnlyList<TG> seeds) where TG : class, IEpnasGenotype
            {
                var options = new EpnasSearchOptions<TG>
                {
                    Seeds = seeds, Input = input, Episodes = p.GetValue(episodes), Steps = p.GetValue(steps), Branches = p.GetValue(branches),
                    TopK = top, ChildEpochs = trainerOptions.Epochs, Constraints = constraints, Strategy = strat, Seed = runSeed,
                };
                var search = new EpnasSearch<TG>(options, space, runner);
                search.Log += display.Line;
                search.ChildFinished += c => display.Line(string.Create(CultureInfo.InvariantCulture,
                    $"child {c.Key}: valid {c.Accuracy:P2}{(c.Metrics.Pruned ? $" (pruned after epoch {c.Metrics.EpochsReached})" : "")} reward {c.Reward:F4} params {c.Resources.Parameters:N0} FLOPs {c.Resources.Flops / 1e6:F1}M intensity {c.Resources.Intensity:F1}{(c.SatisfiesConstraints ? "" : " (violates a constraint)")}"));
                EpnasSearchResult<TG> result = display.Run(() => search.Run(cancel));
                // The top list holds fully trained children only: a pruned child's accuracy is that of fewer epochs.
                IReadOnlyList<EpnasChild<TG>> best = new EpnasSearchResult<TG>(result.Children.Where(c => !c.Metrics.Pruned).ToList(), result.TrainedThisRun).Top(top);
                string[] columns = ["rank", "trial", "valid acc", "reward", "params", "FLOPs (M)", "intensity", "constraints"];
                var rows = best.Select((c, i) => (IReadOnlyList<string>)[
                    (i + 1).ToString(CultureInfo.InvariantCulture), c.Key, c.Accuracy.ToString("P2", CultureInfo.InvariantCulture), c.Reward.ToString("F4", CultureInfo.InvariantCulture),
                    c.Resources.Parameters.ToString("N0", CultureInfo.InvariantCulture), (c.Resources.Flops / 1e6).ToString("F1", CultureInfo.InvariantCulture),
                    c.Resources.Intensity.ToString("F1", CultureInfo.InvariantCulture), c.SatisfiesConstraints ? "all hold" : "violated"]).ToList();
                SearchDisplay.Table(columns, rows);
                for (int i = 0; i < best.Count; i++)
                {
                    string topDir = Path.Combine(dir, $"top-{i + 1}");
                    Directory.CreateDirectory(topDir);
                    ArchitectureJson.Save(best[i].Genotype, Path.Combine(topDir, "arch.json"));
                }
                TrainingRun.WriteAtomically(Path.Combine(dir, "results.md"),
                    $"# EPNAS ({strat}) on {spec}\n\n| {string.Join(" | ", columns)} |\n|{string.Concat(Enumerable.Repeat("---|", columns.Length))}\n"
                    + string.Concat(rows.Select(r => "| " + string.Join(" | ", r) + " |\n")));
                return new JsonObject
                {
                    ["trials_trained"] = result.Children.Count,
                    ["trials_trained_this_run"] = result.TrainedThisRun,
                    ["top"] = new JsonArray(best.Select(c => (JsonNode)new JsonObject
                    {
                        ["key"] = c.Key, ["genotype"] = c.Genotype.ToJson(), ["params"] = c.Resources.Parameters, ["flops"] = c.Resources.Flops,
                        ["intensity"] = c.Resources.Intensity, ["valid_accuracy"] = c.Metrics.ValidationAccuracy, ["test_accuracy"] = c.Metrics.TestAccuracy,
                        ["reward"] = c.Reward, ["satisfies_constraints"] = c.SatisfiesConstraints,
                    }).ToArray()),
                };
            }
        }));
        return cmd;
    }

    /// <summary>Parses 300000, 300K, 2M, 1.5G.</summary>
    internal static long? ParseCount(string? text, string option)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        string t = text.Trim().ToUpperInvariant();
        double scale = t[^1] switch { 'K' => 1e3, 'M' => 1e6, 'G' => 1e9, _ => 1 };
        if (scale != 1) t = t[..^1];
        if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !(v > 0))
            throw new ArgumentException($"{option} {text}: expected a positive count such as 300K or 2M");
        return (long)Math.Round(v * scale);
    }
}
