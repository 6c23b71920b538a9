using System.CommandLine;
using System.Globalization;
using SharpNas.Cli.Display;
using SharpNas.Data;
using SharpNas.Engine.Models;
using SharpNas.Search.Evaluators;
using SharpNas.Search.Reports;
using SharpNas.Search.Spaces.StageWise;
using SharpNas.Search.Strategies.StageWise;
using SharpNas.Search.Trials;
using SharpNas.Training;

namespace SharpNas.Cli.Commands;

/// <summary><c>sharpnas search stagewise</c>: Stage-wise NAS (grow each stage by the importance of its features).</summary>
internal static class SearchStageWiseCommand
{
    public static Command Create()
    {
        var module = new Option<string>("--module") { Description = "module kind: residual (basic blocks), bottleneck, cell (NASNet-A)", DefaultValueFactory = _ => "residual" };
        var criterion = new Option<string>("--criterion") { Description = "stage importance: pls, inffs, ilfs", DefaultValueFactory = _ => "pls" };
        var iterations = new Option<int>("--iterations") { Description = "grow-and-retrain iterations", DefaultValueFactory = _ => 2 };
        var growth = new Option<int?>("--growth") { Description = "modules added when a stage grows (default as the paper: 2 residual or bottleneck, 1 cell)" };
        var initDepth = new Option<int>("--init-depth") { Description = "initial modules per stage", DefaultValueFactory = _ => 1 };
        var width = new Option<int?>("--width") { Description = "filters of the first stage, doubled per stage (default 16; bottleneck: inner width, outputs 4×; cell: F, default 8)" };
        var epochs = new Option<int>("--epochs") { Description = "training epochs of every searched network", DefaultValueFactory = _ => 2 };
        var finalEpochs = new Option<int>("--final-epochs") { Description = "epochs to train the best candidate further (0 = skip)", DefaultValueFactory = _ => 0 };
        var transfer = new Option<string?>("--transfer-from") { Description = "pre-trained deeper network (model.safetensors) whose blocks initialise candidates" };
        var finetune = new Option<int?>("--finetune-epochs") { Description = "epochs of fine-tuning when transferring weights (default: --epochs)" };
        var baselines = new Option<bool>("--baselines") { Description = "also train uniform-depth networks of similar size", DefaultValueFactory = _ => true };
        var stop = new Option<bool>("--stop-on-convergence") { Description = "stop when no stage grows" };
        var outDir = new Option<string?>("--out") { Description = "run folder (default runs/stagewise-sSEED); rerunning resumes" };
        Option<int> workers = LocalWorkers.Option();
        workers.Description = "start N local `sharpnas worker` processes that train the independent networks (the baselines, the final training) in parallel (default 0)";
        var cmd = new Command("stagewise", "Stage-wise NAS: grow the depth of each stage by the importance of its features")
        {
            module, criterion, iterations, growth, initDepth, width, epochs, finalEpochs, transfer, finetune, baselines, stop, outDir, workers,
        };
        // The authors' step decay (×0.1 at 50 % and 75 % of every training; NOTES.md §1), not the other searches' cosine.
        var common = new SearchDataOptions(defaultSubset: null, batch: 128, lr: 0.1, seed: 0, schedule: "multistep");
        common.AddTo(cmd);
        var storeOptions = new StoreOptions();
        storeOptions.AddTo(cmd);
        cmd.SetAction(p => CommandRunner.Run(cancel =>
        {
            StageModule moduleKind = ParseModule(p.GetValue(module)!);
            ulong runSeed = p.GetValue(common.Seed);
            IStageScorer scorer = StageScorers.Create(p.GetValue(criterion)!, runSeed);
            string schedule = common.ScheduleName(p);
            int workerCount = p.GetValue(workers);
            if (workerCount < 0) throw new ArgumentException($"--workers must be non-negative, got {workerCount}");
            // Trials shared with worker processes: with local workers, or a store named by the user (workers may attach).
            bool parallel = workerCount > 0 || storeOptions.Spec(p) is not null;
            // The builtin set's default search trains on a 5,000-image subset so that it stays short.
            bool builtin = DataSpec.Parse(p.GetValue(common.Data)!).Kind == DatasetKind.Builtin;
            var settings = new StageWiseTrialSettings
            {
                Data = p.GetValue(common.Data)!, ValSize = p.GetValue(common.ValSize)!, TrainSubset = p.GetValue(common.TrainSubset) ?? (builtin ? 5000 : 0),
                Batch = p.GetValue(common.Batch), Lr = p.GetValue(common.Lr), Schedule = schedule, Seed = runSeed, Criterion = p.GetValue(criterion)!,
            };
            ThreadSettings.Apply(p.GetValue(common.Threads));
            (DataSpec spec, TrainingData trainingData) = settings.LoadData();   // as every worker loads it
            string dir = p.GetValue(outDir) ?? Path.Combine("runs", $"stagewise-s{runSeed.ToString(CultureInfo.InvariantCulture)}");
            Directory.CreateDirectory(dir);
            string? transferFrom = p.GetValue(transfer);
            // Workers read the donor from their own folder: give them the full path.
            if (parallel && transferFrom is not null) transferFrom = Path.GetFullPath(transferFrom);
            int epochCount = transferFrom is not null ? p.GetValue(finetune) ?? p.GetValue(epochs) : p.GetValue(epochs);
            var options = new StageWiseOptions
            {
                Initial = new StageGenotype(moduleKind, Enumerable.Repeat(p.GetValue(initDepth), 3).ToArray(),
                    p.GetValue(width) ?? (moduleKind == StageModule.Cell ? 8 : 16), ShortcutKind.ZeroPad),
                Growth = p.GetValue(growth),
                Iterations = p.GetValue(iterations),
                StopOnConvergence = p.GetValue(stop),
                Epochs = epochCount,
                TransferFrom = transferFrom,
            };
            options.Validate();

            var display = new SearchDisplay();
            TrainingEvaluator evaluator = settings.CreateEvaluator(spec, trainingData, epochCount, scorer);
            evaluator.Progress += (_, progress) => display.Training(progress);
            using ITrialStore store = storeOptions.Open(p, dir, StageWiseTrialSettings.Kind, parallel ? settings.ToJson() : null);
            using LocalWorkers? local = workerCount > 0
                ? new LocalWorkers(workerCount, storeOptions.Spec(p) ?? Path.GetFullPath(Path.Combine(dir, "trials.db")), store.SearchId, dir,
                    LocalWorkers.ThreadsEach(workerCount, p.GetValue(common.Threads)))
                : null;
            ITrialBatchRunner runner;
            if (parallel)
            {
                bool warned = false;
                var leased = new LeasedTrialRunner(store, evaluator, Path.GetDirectoryName(Path.GetFullPath(dir))!, storeOptions.Lease(p))
                {
                    // With local workers this process only waits for them — unless they are all gone.
                    ShouldTrain = local is null ? null : () =>
                    {
                        if (!local.AllExited) return false;
                        if (!warned) display.Line($"all {workerCount} workers exited (see {Path.Combine(dir, "workers")}): this process trains the remaining networks");
                        warned = true;
                        return true;
                    },
                };
                leased.Started += t => display.TrialStarted(t.Key, t.Genotype["depths"]!.ToJsonString());
                leased.Finished += (t, m, fromStore) => { if (m is not null) display.TrialFinished(t.Key, m, fromStore); };
                runner = leased;
                if (local is not null)
                    display.Line($"{workerCount} local workers (pids {string.Join(", ", local.Pids)}) train the networks; their output: {Path.Combine(dir, "workers")}");
            }
            else
            {
                var sequential = new TrialRunner(store, evaluator, dir);
                sequential.Started += t => display.TrialStarted(t.Key, t.Genotype["depths"]!.ToJsonString());
                sequential.Finished += (t, m, fromStore) => display.TrialFinished(t.Key, m, fromStore);
                runner = new SequentialTrials(sequential, dir);
            }
            var run = new StageWiseRun(options, runner) { Baselines = p.GetValue(baselines), FinalEpochs = p.GetValue(finalEpochs) };
            run.Log += display.Line;

            display.Line($"stage-wise search on {spec} ({trainingData.Train.Count:N0} train / {trainingData.Validation?.Count ?? 0:N0} validation / {trainingData.Test!.Count:N0} test), {StageGenotype.ModuleName(moduleKind)} modules, criterion {p.GetValue(criterion)}, {options.Iterations} iterations, growth {options.GrowthStep}, {epochCount} epochs per network ({schedule} schedule) → {dir}");
            var started = DateTime.UtcNow;
            StageWiseReport report = display.Run(() => run.Run(trainingData.Test!.Labels, trainingData.Test.ClassCount, cancel));
            report.Write(dir, $"Stage-wise NAS on {spec} ({StageGenotype.ModuleName(moduleKind)} modules, {p.GetValue(criterion)})");
            if (parallel)
            {
                StoreOptions.Finish(store);   // workers bound to the search exit
                local?.WaitForExit(TimeSpan.FromSeconds(30));
            }
            string reportFile = StoreOptions.WriteReport(dir, store, p);
            SearchDisplay.Table(StageWiseReport.Columns, report.Rows.Select(StageWiseReport.Cells));
            if (report.EnsembleAccuracy is double e)
                Console.WriteLine($"ensemble of candidates: test accuracy {e:P2} with {report.EnsembleParameters:N0} parameters");
            Console.WriteLine($"wrote {Path.Combine(dir, "results.md")}, results.json{reportFile}, trials.db ({(DateTime.UtcNow - started).TotalSeconds:F0} s this run)");
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    /// <summary>Parses <c>--module</c>: residual (or basic), bottleneck, cell.</summary>
    internal static StageModule ParseModule(string text) => text.Trim().ToLowerInvariant() switch
    {
        "residual" or "basic" => StageModule.Basic,
        "bottleneck" => StageModule.Bottleneck,
        "cell" or "nasnet" => StageModule.Cell,
        _ => throw new ArgumentException($"--module {text}: expected residual, bottleneck or cell"),
    };
}
