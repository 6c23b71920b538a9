using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SharpNas.Cli.Display;
using SharpNas.Data;
using SharpNas.Engine;
using SharpNas.Engine.IO;
using SharpNas.Search.Evaluators;
using SharpNas.Search.Genotypes;
using SharpNas.Search.Pruning;
using SharpNas.Search.Spaces.Epnas;
using SharpNas.Search.Strategies.Epnas;
using SharpNas.Search.Trials;
using SharpNas.Training;

namespace SharpNas.Cli.Commands;

/// <summary><c>sharpnas search epnas</c>: EPNAS, a progressive REINFORCE policy that scales, inserts and removes layers
/// (or cell branches) under soft resource constraints; with <c>--predict-check N</c> instead a check of performance
/// prediction (Kendall's τ between the prediction schedule's and the full schedule's accuracy of N children).</summary>
internal static class SearchEpnasCommand
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Command Create()
    {
        var pattern = new Option<string>("--pattern") { Description = "layer (layer-by-layer) or module (a cell)", DefaultValueFactory = _ => "layer" };
        var maxParams = new Option<string?>("--max-params") { Description = "upper bound on parameters, e.g. 300K or 2M" };
        var maxFlops = new Option<string?>("--max-flops") { Description = "upper bound on multiply-adds, e.g. 30M" };
        var minIntensity = new Option<double?>("--min-intensity") { Description = "lower bound on FLOPs per byte moved" };
        var basePenalty = new Option<double>("--base-penalty") { Description = "p of the reward accuracy × Π p^V (0 < p ≤ 1; smaller punishes violations harder)", DefaultValueFactory = _ => 0.9 };
        var maxViolation = new Option<double?>("--max-violation") { Description = "exploration limit: a child violating any constraint by more than this (1 = twice an upper bound) is drawn again, never trained (default: none)" };
        var episodes = new Option<int>("--episodes") { Description = "episodes", DefaultValueFactory = _ => 2 };
        var steps = new Option<int>("--steps") { Description = "steps per branch and episode", DefaultValueFactory = _ => 3 };
        var branches = new Option<int>("--branches") { Description = "parallel branches", DefaultValueFactory = _ => 4 };
        var topK = new Option<int>("--top-k") { Description = "children of an episode that seed the next (and rows of the results table)", DefaultValueFactory = _ => 4 };
        var rank = new Option<string>("--rank")
        {
            Description = "order of the final table: feasible (children satisfying every constraint first, then by reward) or reward (by reward alone, as the paper)",
            DefaultValueFactory = _ => "feasible",
        };
        var childEpochs = new Option<int>("--child-epochs") { Description = "training epochs of every child (the full schedule)", DefaultValueFactory = _ => 1 };
        var seedInsertions = new Option<int>("--seed-insertions") { Description = "random valid insertions that grow each branch's seed network from the minimal one", DefaultValueFactory = _ => 1 };
        var predict = new Option<bool>("--predict") { Description = "performance prediction: children trained with a larger batch and learning rate, stopped early, --schedule (default cosine to zero) over the shortened run" };
        var predictEpochs = new Option<int?>("--predict-epochs") { Description = "epochs with --predict (default: half of --child-epochs, at least 1)" };
        var predictBatch = new Option<int?>("--predict-batch") { Description = $"batch size with --predict (default: {EpnasPrediction.DefaultBatchFactor} × --batch)" };
        var predictLr = new Option<double?>("--predict-lr") { Description = "learning rate with --predict (default: --lr × predict batch / batch)" };
        var share = new Option<bool>("--share-params") { Description = "parameter sharing: children start from a dictionary of earlier children's weights keyed by (layer, type)" };
        var strategy = new Option<string>("--strategy") { Description = "epnas or random (random actions from the same seeds)", DefaultValueFactory = _ => "epnas" };
        var predictCheck = new Option<int>("--predict-check") { Description = "instead of searching: train N sampled children with the full and the prediction schedule, report Kendall's tau and the time saved", DefaultValueFactory = _ => 0 };
        var outDir = new Option<string?>("--out") { Description = "run folder (default runs/epnas-PATTERN[-random]-sSEED); rerunning resumes" };
        Option<int> workers = LocalWorkers.Option();
        var cmd = new Command("epnas", "EPNAS: grow networks layer by layer (or a cell) under resource constraints")
        {
            pattern, maxParams, maxFlops, minIntensity, basePenalty, maxViolation, episodes, steps, branches, topK, rank, childEpochs, seedInsertions, predict, predictEpochs,
            predictBatch, predictLr, share, strategy, predictCheck, outDir, workers,
        };
        var common = new SearchDataOptions(defaultSubset: 2000, batch: 64, lr: 0.05, seed: 1);
        common.AddTo(cmd);
        var prune = new SearchPruneOptions();
        prune.AddTo(cmd);
        var storeOptions = new StoreOptions();
        storeOptions.AddTo(cmd);
        cmd.SetAction(p => CommandRunner.Run(cancel =>
        {
            var clock = Stopwatch.StartNew();
            TimeSpan cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
            ulong runSeed = p.GetValue(common.Seed);
            var constraints = new EpnasConstraints(ParseCount(p.GetValue(maxParams), "--max-params"), ParseCount(p.GetValue(maxFlops), "--max-flops"),
                p.GetValue(minIntensity), p.GetValue(basePenalty), p.GetValue(maxViolation)).Validated();
            EpnasStrategy strat = p.GetValue(strategy)!.Trim().ToLowerInvariant() switch
            {
                "epnas" => EpnasStrategy.Epnas,
                "random" => EpnasStrategy.Random,
                var s => throw new ArgumentException($"--strategy {s}: expected epnas or random"),
            };
            EpnasRanking ranking = p.GetValue(rank)!.Trim().ToLowerInvariant() switch
            {
                "feasible" => EpnasRanking.FeasibleFirst,
                "reward" => EpnasRanking.Reward,
                var s => throw new ArgumentException($"--rank {s}: expected feasible or reward"),
            };
            string patternName = p.GetValue(pattern)!.Trim().ToLowerInvariant();
            if (patternName is not ("layer" or "module")) throw new ArgumentException($"--pattern {patternName}: expected layer or module");
            int insertions = p.GetValue(seedInsertions);
            if (insertions < 0) throw new ArgumentException($"--seed-insertions must be non-negative, got {insertions}");
            int checkCount = p.GetValue(predictCheck);
            if (checkCount is < 0 or 1) throw new ArgumentException($"--predict-check needs at least 2 children, got {checkCount}");
            bool predicting = p.GetValue(predict);
            var settings = new EpnasChildSettings
            {
                Data = p.GetValue(common.Data)!, ValSize = p.GetValue(common.ValSize)!, TrainSubset = p.GetValue(common.TrainSubset) ?? 0,
                Batch = p.GetValue(common.Batch), Lr = p.GetValue(common.Lr), Schedule = common.ScheduleName(p), Seed = runSeed, Epochs = p.GetValue(childEpochs), Predict = predicting,
                PredictEpochs = p.GetValue(predictEpochs), PredictBatch = p.GetValue(predictBatch), PredictLr = p.GetValue(predictLr),
            };
            TrainerOptions full = settings.FullSchedule();
            full.Validate();
            TrainerOptions shortSchedule = settings.PredictionSchedule();
            TrainerOptions childOptions = settings.ChildSchedule();
            int workerCount = p.GetValue(workers);
            if (workerCount < 0) throw new ArgumentException($"--workers must be non-negative, got {workerCount}");
            // Children shared with worker processes: with local workers, or a store named by the user (workers may attach).
            bool parallel = workerCount > 0 || storeOptions.Spec(p) is not null;
            if (parallel && checkCount > 0) throw new ArgumentException("--predict-check runs in this process: drop --workers and --store");
            string dir = p.GetValue(outDir) ?? Path.Combine("runs",
                $"epnas-{patternName}{(checkCount > 0 ? "-predict-check" : strat == EpnasStrategy.Random ? "-random" : "")}-s{runSeed.ToString(CultureInfo.InvariantCulture)}");
            IPruner? pruner = prune.Create(p);
            ThreadSettings.Apply(p.GetValue(common.Threads));
            (DataSpec spec, TrainingData trainingData) = settings.LoadData();   // as every worker loads it
            Directory.CreateDirectory(dir);
            InputSpec input = trainingData.Input;
            var display = new SearchDisplay();
            var cost = new CostSettings { LatencyRuns = 0 };

            if (checkCount > 0)
            {
                var check = new PredictCheck(trainingData, spec.ToString(), full, shortSchedule, cost, dir, display, checkCount, runSeed);
                return patternName == "layer"
                    ? check.Run(new EpnasLayerActions(input), EpnasSeeds.MinimalLayerNetwork(), cancel)
                    : check.Run(new EpnasModuleActions(), EpnasSeeds.MinimalCell(), cancel);
            }

            using ITrialStore store = storeOptions.Open(p, dir, EpnasChildSettings.Kind, parallel ? settings.ToJson() : null);
            TrialPruning? pruning = SearchPruneOptions.Attach(pruner, store, trainingData);
            if (pruning is not null) pruning.Pruned += (r, e, d) => display.Line($"child {r.Key} stopped after epoch {e}: {d.Reason}");
            TrainingEvaluator evaluator = settings.CreateEvaluator(spec, trainingData, pruning);
            evaluator.Progress += (_, progress) => display.Training(progress);
            var positions = new Dictionary<string, string>(StringComparer.Ordinal);
            string Position(string key) => positions.GetValueOrDefault(key, "");
            using LocalWorkers? local = workerCount > 0
                ? new LocalWorkers(workerCount, storeOptions.Spec(p) ?? Path.GetFullPath(Path.Combine(dir, "trials.db")), store.SearchId, dir,
                    LocalWorkers.ThreadsEach(workerCount, p.GetValue(common.Threads)))
                : null;
            bool warned = false;
            LeasedTrialRunner? leased = parallel
                ? new LeasedTrialRunner(store, evaluator, Path.GetDirectoryName(Path.GetFullPath(dir))!, storeOptions.Lease(p))
                {
                    // With local workers this process only waits for them — unless they are all gone.
                    ShouldTrain = local is null ? null : () =>
                    {
                        if (!local.AllExited) return false;
                        if (!warned) display.Line($"all {workerCount} workers exited (see {Path.Combine(dir, "workers")}): this process trains the remaining children");
                        warned = true;
                        return true;
                    },
                }
                : null;
            ITrialBatchRunner runner;
            if (leased is not null)
            {
                leased.Started += t => display.TrialStarted(t.Key, Position(t.Key));
                runner = leased;
            }
            else
            {
                var sequential = new TrialRunner(store, evaluator, dir);
                sequential.Started += t => display.TrialStarted(t.Key, Position(t.Key));
                runner = new SequentialTrials(sequential, dir);
            }
            if (local is not null)
                display.Line($"{workerCount} local workers (pids {string.Join(", ", local.Pids)}) train the children; their output: {Path.Combine(dir, "workers")}");
            display.Line(string.Create(CultureInfo.InvariantCulture,
                $"EPNAS ({strat.ToString().ToLowerInvariant()}, {patternName} pattern) on {spec}: {p.GetValue(episodes)} episodes × {p.GetValue(steps)} steps × {p.GetValue(branches)} branches, "
                + $"{Schedule(childOptions)} per child{(predicting ? " (performance prediction)" : "")}{(p.GetValue(share) ? ", parameter sharing" : "")}{(pruner is null ? "" : $", pruning: {pruner.Name}")}; "
                + $"constraints: {Describe(constraints)} → {dir}"));
            int top = p.GetValue(topK);
            JsonObject results = patternName == "layer"
                ? Run(new EpnasLayerActions(input), EpnasSeeds.MinimalLayerNetwork())
                : Run(new EpnasModuleActions(), EpnasSeeds.MinimalCell());
            results["prune"] = pruner?.Name ?? "none";
            results["trials_pruned"] = store.All().Count(t => t.Status == TrialStatus.Pruned);
            results["epochs_trained"] = SearchPruneOptions.EpochsTrained(store.All());
            results["wall_seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1);
            results["cpu_seconds"] = Math.Round((Process.GetCurrentProcess().TotalProcessorTime - cpuAtStart).TotalSeconds, 1);
            results["workers"] = workerCount;
            results["trials_trained_by_workers"] = parallel ? store.All().Count(t => t.Status is TrialStatus.Completed or TrialStatus.Pruned
                && t.LeaseOwner is string o && !o.EndsWith(":coordinator", StringComparison.Ordinal)) : 0;
            TrainingRun.WriteAtomically(Path.Combine(dir, "results.json"), results.ToJsonString(Indented) + "\n");
            if (parallel)
            {
                StoreOptions.Finish(store);   // workers bound to the search exit
                local?.WaitForExit(TimeSpan.FromSeconds(30));
            }
            string reportFile = StoreOptions.WriteReport(dir, store, p);
            Console.WriteLine($"wrote {Path.Combine(dir, "results.md")}, results.json, top-*/arch.json{reportFile}, trials.db");
            return ExitCodes.Ok;

            JsonObject Run<TG>(IEpnasActionSpace<TG> space, TG start) where TG : class, IEpnasGenotype
            {
                var seedRng = new SeededRandom(runSeed).Derive("seed-networks");
                TG[] seeds = Enumerable.Range(0, p.GetValue(branches)).Select(b => EpnasSeeds.Random(space, start, insertions, seedRng.Derive("branch", b))).ToArray();
                var options = new EpnasSearchOptions<TG>
                {
                    Seeds = seeds, Input = input, Episodes = p.GetValue(episodes), Steps = p.GetValue(steps), Branches = p.GetValue(branches),
                    TopK = top, ChildEpochs = childOptions.Epochs, Constraints = constraints, Strategy = strat, Seed = runSeed,
                };
                EpnasParameterSharing<TG>? sharing = !p.GetValue(share) ? null : leased is null ? EpnasParameterSharing<TG>.FromRunFolder(input, store, dir)
                    : new EpnasParameterSharing<TG>(input, key =>
                    {
                        string file = store.Find(key) is Trial t ? Path.Combine(leased.ArtifactPath(t), "model.safetensors") : "";
                        return File.Exists(file) ? Safetensors.Load(file).ByName : null;
                    });
                if (sharing is not null)
                {
                    sharing.Loaded += (_, n) => display.Line(string.Create(CultureInfo.InvariantCulture, $"  starts from {n} shared tensors"));
                    // Sequential: the trainer asks when the child starts. Leased: the weights are written into the
                    // child's trial folder when it is enqueued, for whichever process trains it.
                    if (leased is null) evaluator.InitialWeights = r => sharing.InitialWeights((TG)r.Architecture);
                    else leased.InitialWeights = t => sharing.InitialWeights((TG)t.Architecture);
                }
                var search = new EpnasSearch<TG>(options, space, runner) { Sharing = sharing };
                search.Log += display.Line;
                search.ChildStarting += (e, t, b, child) =>
                {
                    EpnasResources r = child.Resources(input);
                    positions[string.Create(CultureInfo.InvariantCulture, $"ep{e}/step{t}/branch{b}")] = string.Create(CultureInfo.InvariantCulture,
                        $"episode {e + 1}/{options.Episodes}, branch {b + 1}/{options.Branches}, step {t + 1}/{options.Steps}: {r.Parameters:N0} params, {r.Flops / 1e6:F1}M FLOPs");
                };
                search.ChildFinished += c => display.Line(string.Create(CultureInfo.InvariantCulture,
                    $"child {c.Key}: valid {c.Accuracy:P2}{(c.Metrics.Pruned ? $" (pruned after epoch {c.Metrics.EpochsReached})" : "")} reward {c.Reward:F4} | {Usage(c.Constraints, c.Resources)}"));
                EpnasSearchResult<TG> result = display.Run(() => search.Run(cancel));
                // The top list holds fully trained children only: a pruned child's accuracy is that of fewer epochs.
                IReadOnlyList<EpnasChild<TG>> best = new EpnasSearchResult<TG>(result.Children.Where(c => !c.Metrics.Pruned).ToList(), result.TrainedThisRun).Top(top, ranking);
                var columns = new List<string> { "rank", "trial", "valid acc", "reward", "params", "FLOPs (M)", "intensity" };
                columns.AddRange(best.FirstOrDefault()?.Constraints.Select(u => Describe(u)) ?? []);
                var rows = best.Select((c, i) => (IReadOnlyList<string>)[
                    (i + 1).ToString(CultureInfo.InvariantCulture), c.Key, c.Accuracy.ToString("P2", CultureInfo.InvariantCulture), c.Reward.ToString("F4", CultureInfo.InvariantCulture),
                    c.Resources.Parameters.ToString("N0", CultureInfo.InvariantCulture), (c.Resources.Flops / 1e6).ToString("F2", CultureInfo.InvariantCulture),
                    c.Resources.Intensity.ToString("F1", CultureInfo.InvariantCulture), .. c.Constraints.Select(Holds)]).ToList();
                SearchDisplay.Table(columns, rows);
                for (int i = 0; i < best.Count; i++)
                {
                    string topDir = Path.Combine(dir, $"top-{i + 1}");
                    Directory.CreateDirectory(topDir);
                    ArchitectureJson.Save(best[i].Genotype, Path.Combine(topDir, "arch.json"));
                }
                double satisfying = best.Count == 0 ? 0 : best.Count(c => c.SatisfiesConstraints) / (double)best.Count;
                int childrenSatisfying = result.Children.Count(c => c.SatisfiesConstraints);
                var md = new StringBuilder();
                md.Append(CultureInfo.InvariantCulture, $"# EPNAS ({strat.ToString().ToLowerInvariant()}, {patternName} pattern) on {spec}\n\n");
                md.Append(CultureInfo.InvariantCulture, $"- {options.Episodes} episodes × {options.Steps} steps × {options.Branches} branches, top-{top}; seed {runSeed}\n");
                md.Append(CultureInfo.InvariantCulture, $"- children: {Schedule(childOptions)}{(predicting ? " (performance prediction)" : "")}, parameter sharing {(sharing is null ? "off" : "on")}\n");
                md.Append(CultureInfo.InvariantCulture, $"- constraints: {Describe(constraints)}; {satisfying:P0} of the top {best.Count} satisfy all "
                    + $"(ranked {RankingName(ranking)}); {childrenSatisfying} of {result.Children.Count} children satisfy all\n");
                md.Append(CultureInfo.InvariantCulture, $"- children evaluated: {result.Children.Count} ({result.TrainedThisRun} trained by this run), {clock.Elapsed.TotalMinutes:F1} min\n\n");
                md.Append("| ").Append(string.Join(" | ", columns)).Append(" |\n|").Append(string.Concat(Enumerable.Repeat("---|", columns.Count))).Append('\n');
                foreach (IReadOnlyList<string> r in rows) md.Append("| ").Append(string.Join(" | ", r)).Append(" |\n");
                md.Append('\n');
                for (int i = 0; i < best.Count; i++) md.Append(CultureInfo.InvariantCulture, $"{i + 1}. `top-{i + 1}/arch.json`: {best[i].Genotype.Describe()}\n");
                TrainingRun.WriteAtomically(Path.Combine(dir, "results.md"), md.ToString());
                return new JsonObject
                {
                    ["pattern"] = patternName,
                    ["strategy"] = strat.ToString().ToLowerInvariant(),
                    ["seed"] = runSeed,
                    ["episodes"] = options.Episodes,
                    ["steps"] = options.Steps,
                    ["branches"] = options.Branches,
                    ["top_k"] = top,
                    ["ranking"] = RankingName(ranking),
                    ["child_training"] = new JsonObject
                    {
                        ["epochs"] = childOptions.Epochs, ["batch"] = childOptions.BatchSize, ["lr"] = childOptions.LearningRate,
                        ["predict"] = predicting, ["share_params"] = sharing is not null,
                    },
                    ["constraints"] = new JsonObject
                    {
                        ["max_params"] = constraints.MaxParams, ["max_flops"] = constraints.MaxFlops, ["min_intensity"] = constraints.MinIntensity,
                        ["base_penalty"] = constraints.BasePenalty, ["max_violation"] = constraints.MaxViolation,
                    },
                    ["trials_trained"] = result.Children.Count,
                    ["trials_trained_this_run"] = result.TrainedThisRun,
                    ["mean_valid_accuracy"] = result.Children.Count == 0 ? 0 : result.Children.Average(c => c.Accuracy),
                    ["episode_summary"] = new JsonArray(result.Children.GroupBy(c => c.Episode).Select(g => (JsonNode)new JsonObject
                    {
                        ["episode"] = g.Key, ["mean_valid_accuracy"] = g.Average(c => c.Accuracy), ["mean_reward"] = g.Average(c => c.Reward),
                        ["best_reward"] = g.Max(c => c.Reward), ["satisfying"] = g.Count(c => c.SatisfiesConstraints) / (double)g.Count(),
                    }).ToArray()),
                    ["top_satisfying_share"] = satisfying,
                    ["children_satisfying"] = childrenSatisfying,
                    ["top"] = new JsonArray(best.Select(c => (JsonNode)new JsonObject
                    {
                        ["key"] = c.Key, ["genotype"] = c.Genotype.ToJson(), ["params"] = c.Resources.Parameters, ["flops"] = c.Resources.Flops,
                        ["intensity"] = c.Resources.Intensity, ["valid_accuracy"] = c.Metrics.ValidationAccuracy, ["test_accuracy"] = c.Metrics.TestAccuracy,
                        ["reward"] = c.Reward, ["satisfies_constraints"] = c.SatisfiesConstraints,
                        ["constraint_usage"] = new JsonArray(c.Constraints.Select(u => (JsonNode)new JsonObject
                        {
                            ["name"] = u.Name, ["usage"] = u.Usage, ["bound"] = u.Bound, ["violation"] = u.Violation, ["satisfied"] = u.Satisfied,
                        }).ToArray()),
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

    private static string RankingName(EpnasRanking r) => r == EpnasRanking.FeasibleFirst ? "feasible" : "reward";

    private static string Schedule(TrainerOptions o) => string.Create(CultureInfo.InvariantCulture,
        $"{o.Epochs} epoch(s) at batch {o.BatchSize}, lr {o.LearningRate:G3} {o.ScheduleName ?? "cosine"}");

    private static string Describe(EpnasConstraints c)
    {
        var parts = new List<string>();
        if (c.MaxParams is long mp) parts.Add(string.Create(CultureInfo.InvariantCulture, $"params ≤ {mp:N0}"));
        if (c.MaxFlops is long mf) parts.Add(string.Create(CultureInfo.InvariantCulture, $"FLOPs ≤ {mf / 1e6:G4}M"));
        if (c.MinIntensity is double mi) parts.Add(string.Create(CultureInfo.InvariantCulture, $"intensity ≥ {mi:G4}"));
        return parts.Count == 0 ? "none" : string.Join(", ", parts) + string.Create(CultureInfo.InvariantCulture, $" (p = {c.BasePenalty})")
            + (c.MaxViolation is double v ? string.Create(CultureInfo.InvariantCulture, $", children violating by more than {v} redrawn") : "");
    }

    private static string Describe(ConstraintUsage u) => u.Name switch
    {
        "max-params" => string.Create(CultureInfo.InvariantCulture, $"params ≤ {u.Bound:N0}"),
        "max-flops" => string.Create(CultureInfo.InvariantCulture, $"FLOPs ≤ {u.Bound / 1e6:G4}M"),
        _ => string.Create(CultureInfo.InvariantCulture, $"intensity ≥ {u.Bound:G4}"),
    };

    private static string Holds(ConstraintUsage u) => string.Create(CultureInfo.InvariantCulture,
        $"{(u.Satisfied ? "yes" : "NO")} ({u.Usage / u.Bound:P0})");

    /// <summary>The progress line's resource part: each set constraint's usage of its bound, else the raw figures.</summary>
    private static string Usage(IReadOnlyList<ConstraintUsage> usage, EpnasResources r)
    {
        string raw = string.Create(CultureInfo.InvariantCulture, $"params {r.Parameters:N0} FLOPs {r.Flops / 1e6:F2}M intensity {r.Intensity:F1}");
        if (usage.Count == 0) return raw;
        return raw + " | " + string.Join(", ", usage.Select(u => string.Create(CultureInfo.InvariantCulture,
            $"{u.Name} {u.Usage / u.Bound:P0}{(u.Satisfied ? "" : " VIOLATED")}")));
    }

    /// <summary><c>--predict-check N</c>: N sampled children trained with the full and with the prediction schedule, in
    /// DIR/full and DIR/predict (durable: rerunning resumes), then Kendall's τ between the two accuracies and the time
    /// each schedule took, in DIR/predict-check.md and .json.</summary>
    private sealed class PredictCheck(TrainingData data, string dataName, TrainerOptions full, TrainerOptions shortSchedule, CostSettings cost,
        string dir, SearchDisplay display, int count, ulong seed)
    {
        public int Run<TG>(IEpnasActionSpace<TG> space, TG start, CancellationToken cancel) where TG : class, IEpnasGenotype
        {
            IReadOnlyList<TG> children = EpnasPrediction.SampleChildren(space, start, count, 4, new SeededRandom(seed).Derive("predict-check"));
            display.Line(string.Create(CultureInfo.InvariantCulture,
                $"prediction check on {dataName}: {children.Count} children, full schedule {Schedule(full)}, prediction {Schedule(shortSchedule)} → {dir}"));
            var rows = new List<(TG Child, TrialMetrics Full, TrialMetrics Short)>();
            display.Run(() =>
            {
                for (int i = 0; i < children.Count; i++)
                {
                    string key = string.Create(CultureInfo.InvariantCulture, $"child{i}");
                    TrialMetrics f = Train("full", full, key, children[i], cancel);
                    TrialMetrics s = Train("predict", shortSchedule, key, children[i], cancel);
                    display.Line(string.Create(CultureInfo.InvariantCulture,
                        $"{key}: full {f.ValidationAccuracy:P2} ({f.TrainSeconds:F0} s), predicted {s.ValidationAccuracy:P2} ({s.TrainSeconds:F0} s)"));
                    rows.Add((children[i], f, s));
                }
                return 0;
            });
            double[] fullAcc = rows.Select(r => r.Full.ValidationAccuracy ?? 0).ToArray();
            double[] shortAcc = rows.Select(r => r.Short.ValidationAccuracy ?? 0).ToArray();
            double tau = EpnasPrediction.KendallTau(shortAcc, fullAcc);
            double fullSeconds = rows.Sum(r => r.Full.TrainSeconds), shortSeconds = rows.Sum(r => r.Short.TrainSeconds);
            int bestFull = Array.IndexOf(fullAcc, fullAcc.Max()), bestShort = Array.IndexOf(shortAcc, shortAcc.Max());
            string[] columns = ["child", "params", "FLOPs (M)", "full acc", "predicted acc", "full s", "predicted s"];
            var table = rows.Select((r, i) => (IReadOnlyList<string>)[
                string.Create(CultureInfo.InvariantCulture, $"child{i}"), r.Full.Parameters.ToString("N0", CultureInfo.InvariantCulture),
                (r.Child.Resources(data.Input).Flops / 1e6).ToString("F2", CultureInfo.InvariantCulture),
                fullAcc[i].ToString("P2", CultureInfo.InvariantCulture), shortAcc[i].ToString("P2", CultureInfo.InvariantCulture),
                r.Full.TrainSeconds.ToString("F1", CultureInfo.InvariantCulture), r.Short.TrainSeconds.ToString("F1", CultureInfo.InvariantCulture)]).ToList();
            SearchDisplay.Table(columns, table);
            string summary = string.Create(CultureInfo.InvariantCulture,
                $"Kendall's tau (predicted vs full accuracy, {rows.Count} children): {tau:F3}; training time {shortSeconds:F0} s vs {fullSeconds:F0} s "
                + $"({(fullSeconds > 0 ? 1 - shortSeconds / fullSeconds : 0):P0} saved); best by prediction child{bestShort}, best fully trained child{bestFull}");
            display.Line(summary);
            var md = new StringBuilder();
            md.Append(CultureInfo.InvariantCulture, $"# EPNAS performance-prediction check on {dataName}\n\n- full: {Schedule(full)}\n- prediction: {Schedule(shortSchedule)}\n- {summary}\n\n");
            md.Append("| ").Append(string.Join(" | ", columns)).Append(" |\n|").Append(string.Concat(Enumerable.Repeat("---|", columns.Length))).Append('\n');
            foreach (IReadOnlyList<string> r in table) md.Append("| ").Append(string.Join(" | ", r)).Append(" |\n");
            TrainingRun.WriteAtomically(Path.Combine(dir, "predict-check.md"), md.ToString());
            var json = new JsonObject
            {
                ["children"] = rows.Count, ["kendall_tau"] = tau, ["full_train_seconds"] = fullSeconds, ["predict_train_seconds"] = shortSeconds,
                ["full"] = new JsonObject { ["epochs"] = full.Epochs, ["batch"] = full.BatchSize, ["lr"] = full.LearningRate },
                ["predict"] = new JsonObject { ["epochs"] = shortSchedule.Epochs, ["batch"] = shortSchedule.BatchSize, ["lr"] = shortSchedule.LearningRate },
                ["rows"] = new JsonArray(rows.Select((r, i) => (JsonNode)new JsonObject
                {
                    ["genotype"] = r.Child.ToJson(), ["params"] = r.Full.Parameters, ["full_accuracy"] = fullAcc[i], ["predict_accuracy"] = shortAcc[i],
                    ["full_seconds"] = r.Full.TrainSeconds, ["predict_seconds"] = r.Short.TrainSeconds,
                }).ToArray()),
            };
            TrainingRun.WriteAtomically(Path.Combine(dir, "predict-check.json"), json.ToJsonString(Indented) + "\n");
            Console.WriteLine($"wrote {Path.Combine(dir, "predict-check.md")} and predict-check.json");
            return ExitCodes.Ok;
        }

        private TrialMetrics Train(string schedule, TrainerOptions options, string key, IArchitecture child, CancellationToken cancel)
        {
            string runDir = Path.Combine(dir, schedule);
            Directory.CreateDirectory(runDir);
            var evaluator = new TrainingEvaluator(data, dataName, options, cost, scorer: null);
            evaluator.Progress += (_, progress) => display.Training(progress);
            using var store = new SqliteTrialStore(Path.Combine(runDir, "trials.db"));
            var runner = new TrialRunner(store, evaluator, runDir);
            runner.Started += t => display.TrialStarted($"{schedule}/{t.Key}", schedule + " schedule");
            return runner.Run(key, schedule, child, options.Epochs, cancel: cancel);
        }
    }
}
