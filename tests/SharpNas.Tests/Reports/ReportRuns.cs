using SharpNas.Data;
using SharpNas.Search.Evaluators;
using SharpNas.Search.Importance;
using SharpNas.Search.Spaces.StageWise;
using SharpNas.Search.Strategies.StageWise;
using SharpNas.Search.Trials;
using SharpNas.Tests.Training;
using SharpNas.Training;

namespace SharpNas.Tests.Reports;

/// <summary>Small real run folders made once for the report tests, all on 8×8 synthetic images: a train run (2 epochs of
/// a tiny ResNet), a stage-wise search (1 iteration, importance scores from PLS-VIP, uniform baselines), and through the
/// command line a NASNet search (random, 2 children of B = 2) and an EPNAS search (1 episode, 2 branches, constraints).</summary>
public sealed class ReportRuns : IDisposable
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "sharpnas-report-" + Guid.NewGuid().ToString("N"));
    public string TrainDir => Path.Combine(Root, "train");
    public string SearchDir => Path.Combine(Root, "search");
    public RunMetrics TrainMetrics { get; }
    public StageWiseReport SearchResults { get; }
    public int SearchTrials { get; }
    public string NasNetDir => Path.Combine(Root, "nasnet");
    public string EpnasDir => Path.Combine(Root, "epnas");
    public const int NasNetBudget = 2, NasNetBlocks = 2;

    public static StageGenotype Tiny { get; } = new(StageModule.Basic, [1, 1], Width: 4);

    public ReportRuns()
    {
        var data = new TrainingData(TinyData.Make(48), TinyData.Make(12, seed: 2), TinyData.Make(12, seed: 3));
        var options = new TrainerOptions { Epochs = 2, BatchSize = 16, LearningRate = 0.05, Seed = 7, Augmentation = AugmentationOptions.Grayscale };
        var costs = new CostSettings { LatencyRuns = 1, LatencyBatches = [1] };
        TrainMetrics = TrainingRun.Execute(Tiny, data, "tiny", options, TrainDir, costs);

        Directory.CreateDirectory(SearchDir);
        var evaluator = new TrainingEvaluator(data, "tiny", options with { Epochs = 1 }, costs,
            new ImportanceStageScorer(ImportanceCriterion.PlsVip, new ImportanceOptions()));
        var search = new StageWiseOptions { Initial = new StageGenotype(StageModule.Basic, [1, 1], Width: 4), Growth = 1, Iterations = 1, Epochs = 1 };
        using (var store = new SqliteTrialStore(Path.Combine(SearchDir, "trials.db")))
        {
            var run = new StageWiseRun(search, new TrialRunner(store, evaluator, SearchDir), SearchDir);
            SearchResults = run.Run(data.Test!.Labels, data.Test.ClassCount);
            SearchResults.Write(SearchDir, "test search");
            SearchTrials = store.All().Count;
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();

        string npy = SharpNas.Tests.Cli.TinyNpy.Write(Path.Combine(Root, "npy"));
        Cli("search", "nasnet", "--data", npy, "--budget", $"{NasNetBudget}", "--blocks", $"{NasNetBlocks}", "--child-f0", "4", "--strategy", "random",
            "--train-subset", "0", "--val-size", "0.2", "--batch", "16", "--out", NasNetDir);
        Cli("search", "epnas", "--data", npy, "--episodes", "1", "--steps", "1", "--branches", "2", "--top-k", "2", "--max-params", "20K",
            "--max-flops", "2M", "--train-subset", "0", "--val-size", "0.2", "--batch", "16", "--out", EpnasDir);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }

    private static void Cli(params string[] args)
    {
        int code = SharpNas.Cli.Program.Main(args);
        if (code != 0) throw new InvalidOperationException($"sharpnas {string.Join(' ', args)} exited with {code}");
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
