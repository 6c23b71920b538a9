using SharpNas.Search.Evaluators;
using SharpNas.Search.Spaces.StageWise;
using SharpNas.Search.Strategies.StageWise;
using SharpNas.Search.Trials;

namespace SharpNas.Tests.Search;

public sealed class StageWiseSearchTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "sharpnas-sw-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    /// <summary>Scripted stage scores: stage 1 always improves with depth, stage 2 never changes, stage 3 improves
    /// up to depth 4 and then stays flat.</summary>
    private sealed class ScriptedEvaluator : IEvaluator
    {
        public List<string> Evaluated { get; } = [];
        public string? CancelAt { get; set; }
        public CancellationTokenSource? Cancel { get; set; }

        public TrialMetrics Evaluate(TrialRequest request, CancellationToken cancel)
        {
            if (request.Key == CancelAt) { Cancel!.Cancel(); cancel.ThrowIfCancellationRequested(); }
            Evaluated.Add(request.Key);
            var d = ((StageGenotype)request.Architecture).Depths;
            return new TrialMetrics
            {
                ValidationAccuracy = 0.5 + 0.01 * d.Sum(),
                Parameters = 1000 * d.Sum(),
                StageScores = [1 - 1.0 / (d[0] + 1), 0.5, Math.Min(d[2], 4) / 10.0],
            };
        }
    }

    private StageWiseOptions Options(int iterations = 3) => new()
    {
        Initial = new StageGenotype(StageModule.Basic, [2, 2, 2]), Growth = 2, Iterations = iterations, Epochs = 1,
    };

    [Fact]
    public void GrowthRuleGrowsExactlyTheStagesWhoseTemporaryScoreIsHigher()
    {
        var eval = new ScriptedEvaluator();
        using var store = new SqliteTrialStore(Path.Combine(_dir, "trials.db"));
        StageWiseResult r = new StageWiseSearch(Options(), new TrialRunner(store, eval, _dir)).Run();
        int[][] candidates = r.Candidates.Select(c => c.Genotype.Depths.ToArray()).ToArray();
        Assert.Equal([[2, 2, 2], [4, 2, 4], [6, 2, 4], [8, 2, 4]], candidates);
        Assert.Equal(1 + 2 * 3, eval.Evaluated.Count);
        Assert.Equal(["initial", "iter1/temporary", "iter1/candidate", "iter2/temporary", "iter2/candidate", "iter3/temporary", "iter3/candidate"], eval.Evaluated);
        Assert.All(store.All(), t => Assert.Equal(TrialStatus.Completed, t.Status));
        Assert.Equal([4, 4, 4], r.Steps[1].Genotype.Depths);
    }

    [Fact]
    public void StopOnConvergenceEndsWhenNoStageGrows()
    {
        using var store = new SqliteTrialStore(Path.Combine(_dir, "trials.db"));
        var options = Options(iterations: 5) with { StopOnConvergence = true };
        var flat = new FlatEvaluator();
        StageWiseResult r = new StageWiseSearch(options, new TrialRunner(store, flat, _dir)).Run();
        Assert.True(r.Converged);
        Assert.Equal(2, flat.Count);   // initial + the first temporary network, then stop
    }

    private sealed class FlatEvaluator : IEvaluator
    {
        public int Count { get; private set; }
        public TrialMetrics Evaluate(TrialRequest request, CancellationToken cancel)
        {
            Count++;
            return new TrialMetrics { StageScores = [0.3, 0.3, 0.3] };
        }
    }

    [Fact]
    public void AnInterruptedSearchResumesWithoutRetrainingCompletedTrials()
    {
        string db = Path.Combine(_dir, "trials.db");
        var first = new ScriptedEvaluator { CancelAt = "iter2/temporary", Cancel = new CancellationTokenSource() };
        using (var store = new SqliteTrialStore(db))
        {
            var search = new StageWiseSearch(Options(), new TrialRunner(store, first, _dir));
            Assert.ThrowsAny<OperationCanceledException>(() => search.Run(first.Cancel.Token));
            Assert.Equal(3, store.All().Count(t => t.Status == TrialStatus.Completed));
            Assert.Equal(TrialStatus.Running, store.Find("iter2/temporary")!.Status);
        }
        var second = new ScriptedEvaluator();
        using (var store = new SqliteTrialStore(db))
        {
            StageWiseResult r = new StageWiseSearch(Options(), new TrialRunner(store, second, _dir)).Run();
            Assert.Equal(["iter2/temporary", "iter2/candidate", "iter3/temporary", "iter3/candidate"], second.Evaluated);
            Assert.Equal(4, r.TrainedThisRun);
            Assert.Equal(7, store.All().Count);
            Assert.All(store.All(), t => Assert.Equal(TrialStatus.Completed, t.Status));
            Assert.Equal(2, store.Find("iter2/temporary")!.Attempts);
        }
    }

    [Fact]
    public void AFinishedSearchRerunWithMoreIterationsTrainsOnlyTheNewIterations()
    {
        // Extending a run folder: the same command with --iterations 3 after a 2-iteration run ends as a 3-iteration run
        // would have, training just iteration 3's temporary network and candidate.
        string db = Path.Combine(_dir, "trials.db");
        using (var store = new SqliteTrialStore(db))
            new StageWiseSearch(Options(iterations: 2), new TrialRunner(store, new ScriptedEvaluator(), _dir)).Run();
        var more = new ScriptedEvaluator();
        using (var store = new SqliteTrialStore(db))
        {
            StageWiseResult r = new StageWiseSearch(Options(iterations: 3), new TrialRunner(store, more, _dir)).Run();
            Assert.Equal(["iter3/temporary", "iter3/candidate"], more.Evaluated);
            Assert.Equal([[2, 2, 2], [4, 2, 4], [6, 2, 4], [8, 2, 4]], r.Candidates.Select(c => c.Genotype.Depths.ToArray()));
        }
    }

    [Fact]
    public void AnIdenticalArchitectureIsAnsweredFromItsTwinTrial()
    {
        using var store = new SqliteTrialStore(Path.Combine(_dir, "trials.db"));
        var flat = new FlatEvaluator();
        // No stage ever grows, so every candidate equals the initial network and every temporary the first one.
        StageWiseResult r = new StageWiseSearch(Options(iterations: 2), new TrialRunner(store, flat, _dir)).Run();
        Assert.Equal(2, flat.Count);   // the initial and the first temporary network
        Assert.Equal(5, store.All().Count(t => t.Status == TrialStatus.Completed));
        Assert.Equal(store.Find("initial")!.ArtifactDir, store.Find("iter2/candidate")!.ArtifactDir);
        Assert.Equal(5, r.Steps.Count);
    }

    [Fact]
    public void ABaselineEqualToTheInitialNetworkReusesItsTrainedTrial()
    {
        var eval = new ScriptedEvaluator();
        using var store = new SqliteTrialStore(Path.Combine(_dir, "trials.db"));
        StageWiseReport report = new StageWiseRun(Options(iterations: 0), new TrialRunner(store, eval, _dir), _dir).Run([], 3);
        Assert.Equal(["initial"], eval.Evaluated);
        Assert.Contains(report.Rows, r => r.Role == "baseline" && r.Genotype.Depths.SequenceEqual([2, 2, 2]));
        Assert.Equal(TrialStatus.Completed, store.Find("baseline/d2")!.Status);
    }

    [Fact]
    public void ARunFolderOfAnotherSearchIsRefused()
    {
        string db = Path.Combine(_dir, "trials.db");
        using (var store = new SqliteTrialStore(db))
            new StageWiseSearch(Options(iterations: 0), new TrialRunner(store, new ScriptedEvaluator(), _dir)).Run();
        using (var store = new SqliteTrialStore(db))
        {
            var other = Options(iterations: 0) with { Initial = new StageGenotype(StageModule.Basic, [3, 3, 3]) };
            var e = Assert.Throws<InvalidDataException>(() => new StageWiseSearch(other, new TrialRunner(store, new ScriptedEvaluator(), _dir)).Run());
            Assert.Contains("another search", e.Message);
        }
    }
}
