using SharpNas.Data;
using SharpNas.Search.Evaluators;
using SharpNas.Search.Importance;
using SharpNas.Search.Spaces.StageWise;
using SharpNas.Search.Strategies.StageWise;
using SharpNas.Search.Trials;
using SharpNas.Tests.Training;
using SharpNas.Training;

namespace SharpNas.Tests.Reports;

/// <summary>Two small real run folders made once for the report tests: a train run (2 epochs of a tiny ResNet) and a
/// stage-wise search (1 iteration, importance scores from PLS-VIP, uniform baselines), both on 8×8 synthetic images.</summary>
public sealed class ReportRuns : IDisposable
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "sharpnas-report-" + Guid.NewGuid().ToString("N"));
    public string TrainDir => Path.Combine(Root, "train");
    public string SearchDir => Path.Combine(Root, "search");
    public RunMetrics TrainMetrics { get; }
    public StageWiseReport SearchResults { get; }
    public int SearchTrials { get; }

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
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
