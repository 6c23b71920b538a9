using SharpNas.Search.Evaluators;
using SharpNas.Search.Spaces.StageWise;
using SharpNas.Search.Strategies.StageWise;
using SharpNas.Search.Trials;

namespace SharpNas.Tests.Search.StageWise;

/// <summary>Algorithm 1 over bottleneck and cell stages, with scripted stage scores.</summary>
public sealed class StageWiseModuleSearchTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "sharpnas-swm-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    /// <summary>Stage 1's score rises with its depth until 4 modules, stage 2's never changes, stage 3's always rises.</summary>
    private sealed class ScriptedEvaluator : IEvaluator
    {
        public List<(string Key, StageGenotype Genotype)> Evaluated { get; } = [];

        public TrialMetrics Evaluate(TrialRequest request, CancellationToken cancel)
        {
            var g = (StageGenotype)request.Architecture;
            Evaluated.Add((request.Key, g));
            return new TrialMetrics { StageScores = [Math.Min(g.Depths[0], 4) / 10.0, 0.5, 1 - 1.0 / (g.Depths[2] + 1)] };
        }
    }

    private StageWiseResult Search(StageModule module, ScriptedEvaluator eval, int iterations = 3)
    {
        using var store = new SqliteTrialStore(Path.Combine(_dir, "trials.db"));
        var options = new StageWiseOptions { Initial = new StageGenotype(module, [2, 2, 2]), Iterations = iterations, Epochs = 1 };
        return new StageWiseSearch(options, new TrialRunner(store, eval, _dir)).Run();
    }

    [Fact]
    public void CellModules_GrowOneCellAtATimeByDefault()
    {
        var eval = new ScriptedEvaluator();
        StageWiseResult r = Search(StageModule.Cell, eval);
        Assert.Equal([[2, 2, 2], [3, 2, 3], [4, 2, 4], [4, 2, 5]], r.Candidates.Select(c => c.Genotype.Depths.ToArray()).ToArray());
        Assert.Equal([3, 3, 3], r.Steps[1].Genotype.Depths);   // the first temporary network: +1 in every stage
        Assert.Equal(1 + 2 * 3, eval.Evaluated.Count);
        Assert.All(eval.Evaluated, e => Assert.Equal(StageModule.Cell, e.Genotype.Module));
    }

    [Fact]
    public void BottleneckModules_GrowTwoBlocksAtATimeByDefault()
    {
        var eval = new ScriptedEvaluator();
        StageWiseResult r = Search(StageModule.Bottleneck, eval);
        Assert.Equal([[2, 2, 2], [4, 2, 4], [4, 2, 6], [4, 2, 8]], r.Candidates.Select(c => c.Genotype.Depths.ToArray()).ToArray());
        Assert.Equal(1 + 2 * 3, eval.Evaluated.Count);
        Assert.All(eval.Evaluated, e => Assert.Equal(StageModule.Bottleneck, e.Genotype.Module));
    }

    [Theory]
    [InlineData(StageModule.Basic, 2)]
    [InlineData(StageModule.Bottleneck, 2)]
    [InlineData(StageModule.Cell, 1)]
    public void TheDefaultGrowthStepFollowsThePaper(StageModule module, int growth)
    {
        Assert.Equal(growth, StageWiseOptions.DefaultGrowth(module));
        var options = new StageWiseOptions { Initial = new StageGenotype(module, [1, 1, 1]) };
        Assert.Equal(growth, options.GrowthStep);
        Assert.Equal(5, (options with { Growth = 5 }).GrowthStep);
    }
}

/// <summary>The candidates' ensemble counts a network once even when several iterations produced it.</summary>
public sealed class StageWiseEnsembleTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "sharpnas-swe-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    /// <summary>Flat stage scores (nothing ever grows); writes test probabilities that classify both test images as class 1.</summary>
    private sealed class FlatEvaluator : IEvaluator
    {
        public TrialMetrics Evaluate(TrialRequest request, CancellationToken cancel)
        {
            Directory.CreateDirectory(request.ArtifactDir);
            float[] probs = [0.2f, 0.8f, 0.3f, 0.7f];
            File.WriteAllBytes(Path.Combine(request.ArtifactDir, TrainingEvaluator.TestProbabilitiesFile),
                System.Runtime.InteropServices.MemoryMarshal.AsBytes(probs.AsSpan()).ToArray());
            return new TrialMetrics { StageScores = [0.3, 0.3, 0.3], Parameters = 1000 };
        }
    }

    [Fact]
    public void CandidatesEqualToAnEarlierOne_JoinTheEnsembleOnce()
    {
        using var store = new SqliteTrialStore(Path.Combine(_dir, "trials.db"));
        var options = new StageWiseOptions { Initial = new StageGenotype(StageModule.Cell, [1, 1, 1]), Iterations = 2, Epochs = 1 };
        StageWiseReport report = new StageWiseRun(options, new TrialRunner(store, new FlatEvaluator(), _dir), _dir) { Baselines = false }.Run([1, 0], 2);
        Assert.Equal(2, report.Rows.Count(r => r.Role == "candidate"));
        Assert.Equal(1000, report.EnsembleParameters);   // the two candidates are the same trained network
        Assert.Equal(0.5, report.EnsembleAccuracy);
    }
}
