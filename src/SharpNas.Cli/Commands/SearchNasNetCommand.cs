using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using SharpNas.Cli.Display;
using SharpNas.Data;
using SharpNas.Search.Evaluators;
using SharpNas.Search.Pruning;
using SharpNas.Search.Spaces;
using SharpNas.Search.Spaces.NasNet;
using SharpNas.Search.Strategies.Discrete;
using SharpNas.Search.Strategies.Evolution;
using SharpNas.Search.Strategies.RandomSearch;
using SharpNas.Search.Strategies.Reinforce;
using SharpNas.Search.Trials;
using SharpNas.Training;

namespace SharpNas.Cli.Commands;

/// <summary><c>sharpnas search nasnet</c>: search NASNet's normal and reduction cells with the controller, evolution or random search,
/// training every child network (small "N @ F" stacks) on the data.</summary>
internal static class SearchNasNetCommand
{
    public static Command Create()
    {
        var strategy = new Option<string>("--strategy") { Description = "reinforce, ppo, evolution or random", DefaultValueFactory = _ => "reinforce" };
        var budget = new Option<int>("--budget") { Description = "child networks to train", DefaultValueFactory = _ => 8 };
        var blocks = new Option<int>("--blocks") { Description = "blocks per cell (B)", DefaultValueFactory = _ => 5 };
        var cells = new Option<int>("--child-n", "--cells") { Description = "normal cells per stage of a child (N)", DefaultValueFactory = _ => 1 };
        var filters = new Option<int>("--child-f0", "--filters") { Description = "initial filters of a child (F)", DefaultValueFactory = _ => 8 };
        var epochs = new Option<int>("--child-epochs", "--epochs") { Description = "training epochs per child", DefaultValueFactory = _ => 1 };
        var outDir = new Option<string?>("--out") { Description = "run folder (default runs/nasnet-STRATEGY-sSEED); rerunning resumes" };
        var perUpdate = new Option<int?>("--children-per-update") { Description = "M: children sampled per controller update, or kept in flight by evolution and random search; trained in parallel by the store's workers (default: the controller's batch; 1 for evolution and random)" };
        Option<int> workers = LocalWorkers.Option();
        workers.Description = "start N local `sharpnas worker` processes that train the children of a batch alongside this one (default 0)";
        var cmd = new Command("nasnet", "NASNet: search a normal and a reduction cell")
        {
            strategy, budget, blocks, cells, filters, epochs, outDir, perUpdate, workers,
        };
        var storeOptions = new StoreOptions();
        storeOptions.AddTo(cmd);
        var common = new SearchDataOptions(defaultSubset: 3000, batch: 64, lr: 0.05, seed: 0);
        common.AddTo(cmd);
        var prune = new SearchPruneOptions();
        prune.AddTo(cmd);
        cmd.SetAction(p => CommandRunner.Run(cancel =>
        {
            ulong runSeed = p.GetValue(common.Seed);
            string strategyName = p.GetValue(strategy)!.Trim().ToLowerInvariant();
            var space = new NasNetDecisionSpace(p.GetValue(blocks));
            int? m = p.GetValue(perUpdate) is int given && given < 1 ? throw new ArgumentException($"--children-per-update must be at least 1, got {given}") : p.GetValue(perUpdate);
            IDiscreteStrategy strat = strategyName switch
            {
                "reinforce" => new ReinforceStrategy(space, runSeed, new ReinforceOptions { BatchSize = m ?? 1 }),
                "ppo" => new ReinforceStrategy(space, runSeed, ReinforceOptions.NasNetPpo with { BatchSize = m ?? ReinforceOptions.NasNetPpo.BatchSize }),
                "evolution" => new RegularizedEvolution(space, runSeed, new EvolutionOptions { Population = Math.Clamp(p.GetValue(budget) / 2, 2, 100), SampleSize = 2 }),
                "random" => new RandomSearchStrategy(space, runSeed),
                _ => throw new ArgumentException($"--strategy {strategyName}: expected reinforce, ppo, evolution or random"),
            };
            if (p.GetValue(budget) < 1) throw new ArgumentException($"--budget must be at least 1, got {p.GetValue(budget)}");
            if (p.GetValue(workers) < 0) throw new ArgumentException($"--workers must be non-negative, got {p.GetValue(workers)}");
            IPruner? pruner = prune.Create(p);
            var settings = new NasNetChildSettings
            {
                Data = p.GetValue(common.Data)!, ValSize = p.GetValue(common.ValSize)!, TrainSubset = p.GetValue(common.TrainSubset) ?? 0, Batch = p.GetValue(common.Batch),
                Lr = p.GetValue(common.Lr), Seed = runSeed, Blocks = p.GetValue(blocks), Cells = p.GetValue(cells), Filters = p.GetValue(filters), Epochs = p.GetValue(epochs),
                Schedule = common.ScheduleName(p),
            };
            ThreadSettings.Apply(p.GetValue(common.Threads));
            (DataSpec spec, TrainingData trainingData) = settings.LoadData();   // as every worker loads it
            string dir = p.GetValue(outDir) ?? Path.Combine("runs", $"nasnet-{strategyName}-s{runSeed.ToString(CultureInfo.InvariantCulture)}");
            Directory.CreateDirectory(dir);
            int n = p.GetValue(cells), f = p.GetValue(filters);
            TrainerOptions options = settings.Trainer();   // as every worker trains

            var display = new SearchDisplay();
            using ITrialStore store = storeOptions.Open(p, dir, NasNetChildSettings.Kind, settings.ToJson());
            // Local workers lease the batch's children like remote ones; this process trains children too.
            using LocalWorkers? local = p.GetValue(workers) > 0
                ? new LocalWorkers(p.GetValue(workers), storeOptions.Spec(p) ?? Path.GetFullPath(Path.Combine(dir, "trials.db")), store.SearchId, dir,
                    LocalWorkers.ThreadsEach(p.GetValue(workers) + 1, p.GetValue(common.Threads)))
                : null;
            TrialPruning? pruning = SearchPruneOptions.Attach(pruner, store, trainingData);
            if (pruning is not null) pruning.Pruned += (r, e, d) => display.Line($"child {r.Key} stopped after epoch {e}: {d.Reason}");
            var trainer = new TrainingEvaluator(trainingData, spec.ToString(), options, new CostSettings { LatencyRuns = 0 }, scorer: null, pruning);
            trainer.Progress += (_, progress) => display.Training(progress);
            var children = new TrainedChildEvaluator(space, s => NasNetGenotype.FromDecisions(s, n, f), trainer, dir, options.Epochs);
            children.Started += (key, _) => display.TrialStarted(key, $"NASNet child {n} @ {f}");
            var search = new DiscreteSearch(strat, children, store)
            {
                ChildrenPerUpdate = m ?? (strat is ReinforceStrategy r ? r.Options.BatchSize : 1), Lease = storeOptions.Lease(p), TrialConfig = settings.ToJson(),
                Asynchronous = strat is IAsynchronousStrategy,   // evolution and random search: M children in flight, not batches
                ArtifactDir = s => NasNetChildSettings.ArtifactDir(store.SearchId, space, s),
            };
            search.Observed += (i, o, fromStore) => display.Line(string.Create(CultureInfo.InvariantCulture,
                $"sample {i}{(fromStore ? " (already done)" : "")}: validation accuracy {o.Reward:P2}"));
            display.Line($"NASNet search ({strat.Name}) on {spec}: {p.GetValue(budget)} children of {n} @ {f}, {options.Epochs} epoch(s) each{(pruner is null ? "" : $" (pruning: {pruner.Name})")}, {trainingData.Train.Count:N0} train / {trainingData.Validation?.Count ?? 0:N0} validation images → {dir}");
            DiscreteSearchResult result = display.Run(() => search.Run(new DiscreteBudget(MaxQueries: p.GetValue(budget)), cancel));
            StoreOptions.Finish(store);
            local?.WaitForExit(TimeSpan.FromSeconds(30));

            var rows = store.All().Where(t => t.Role == DiscreteSearch.Role && t.Metrics is not null)
                .Select(t => (Trial: t, Metrics: TrialMetrics.FromJson(t.Metrics!), Reward: t.Metrics!["reward"]!.GetValue<double>()))
                .OrderByDescending(r => r.Reward).ToList();
            // The pick is among fully trained children: a pruned child's reward is an accuracy after fewer epochs.
            var best = rows.FirstOrDefault(r => !r.Metrics.Pruned);
            if (best.Trial is null) best = rows[0];
            var bestArch = (JsonObject)best.Trial.Metrics!["architecture"]!.DeepClone();
            TrainingRun.WriteAtomically(Path.Combine(dir, "best-arch.json"), bestArch.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
            var json = new JsonObject
            {
                ["strategy"] = strat.Name,
                ["trials_trained"] = rows.Count,
                ["prune"] = pruner?.Name ?? "none",
                ["trials_pruned"] = rows.Count(r => r.Metrics.Pruned),
                ["epochs_trained"] = SearchPruneOptions.EpochsTrained(rows.Select(r => r.Trial)),
                ["best"] = new JsonObject
                {
                    ["key"] = best.Trial.Key, ["genotype"] = bestArch, ["valid_accuracy"] = best.Reward,
                    ["test_accuracy"] = best.Metrics.TestAccuracy, ["params"] = best.Metrics.Parameters, ["flops"] = best.Metrics.Macs,
                },
                ["samples"] = new JsonArray(rows.Select(r => (JsonNode)new JsonObject
                {
                    ["key"] = r.Trial.Key, ["choices"] = r.Trial.Genotype["key"]?.DeepClone(), ["valid_accuracy"] = r.Reward,
                    ["test_accuracy"] = r.Metrics.TestAccuracy, ["params"] = r.Metrics.Parameters, ["flops"] = r.Metrics.Macs, ["train_seconds"] = r.Metrics.TrainSeconds,
                    ["status"] = r.Trial.Status.ToString().ToLowerInvariant(), ["epochs_reached"] = r.Metrics.EpochsReached,
                }).ToArray()),
            };
            TrainingRun.WriteAtomically(Path.Combine(dir, "results.json"), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
            string[] columns = ["trial", "valid acc", "test acc", "params", "FLOPs (M)", "train s"];
            var cellsText = rows.Take(10).Select(r => (IReadOnlyList<string>)[
                r.Metrics.Pruned ? $"{r.Trial.Key} (pruned @ {r.Metrics.EpochsReached})" : r.Trial.Key, r.Reward.ToString("P2", CultureInfo.InvariantCulture), r.Metrics.TestAccuracy?.ToString("P2", CultureInfo.InvariantCulture) ?? "–",
                r.Metrics.Parameters.ToString("N0", CultureInfo.InvariantCulture), (r.Metrics.Macs / 1e6).ToString("F1", CultureInfo.InvariantCulture),
                r.Metrics.TrainSeconds.ToString("F0", CultureInfo.InvariantCulture)]).ToList();
            TrainingRun.WriteAtomically(Path.Combine(dir, "results.md"),
                $"# NASNet search ({strat.Name}) on {spec}\n\n| {string.Join(" | ", columns)} |\n|{string.Concat(Enumerable.Repeat("---|", columns.Length))}\n"
                + string.Concat(cellsText.Select(c => "| " + string.Join(" | ", c) + " |\n")) + $"\nBest cells: `{best.Trial.Genotype["key"]}` (see best-arch.json).\n");
            string reportFile = StoreOptions.WriteReport(dir, store, p);
            SearchDisplay.Table(columns, cellsText);
            Console.WriteLine($"best: {best.Trial.Key} validation {best.Reward:P2}; wrote {Path.Combine(dir, "results.md")}, results.json, best-arch.json{reportFile}, trials.db");
            return ExitCodes.Ok;
        }));
        return cmd;
    }
}
