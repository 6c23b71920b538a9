using SharpNas.Search.Evaluators;
using SharpNas.Search.Spaces.Epnas;
using SharpNas.Search.Strategies.Epnas;
using SharpNas.Search.Trials;
using SharpNas.Training;
using static SharpNas.Tests.Search.Epnas.EpnasGenotypeTests;

namespace SharpNas.Tests.Search.Epnas;

/// <summary>The episode / branch driver over the durable trial runner, with a fake evaluator.</summary>
public sealed class EpnasSearchTests() : TempFolderTests("epnas")
{
    /// <summary>Accuracy grows with parameters (so the params constraint binds); can cancel at a given evaluation.</summary>
    private sealed class FakeEvaluator : IEvaluator
    {
        public List<string> Evaluated { get; } = [];
        public int? CancelAtCall { get; set; }
        public CancellationTokenSource? Cancel { get; set; }

        public TrialMetrics Evaluate(TrialRequest request, CancellationToken cancel)
        {
            if (Evaluated.Count == CancelAtCall) { Cancel!.Cancel(); cancel.ThrowIfCancellationRequested(); }
            Evaluated.Add(request.Key);
            long p = request.Architecture.Cost(Small).Parameters;
            return new TrialMetrics { ValidationAccuracy = 1 - 1.0 / (1 + p / 20_000.0), Parameters = p };
        }
    }

    private static EpnasSearchOptions<EpnasLayerGenotype> Options(EpnasStrategy strategy = EpnasStrategy.Epnas, EpnasConstraints? constraints = null) => new()
    {
        Seeds = [new EpnasLayerGenotype([Conv(3, 32, 0), Pool(2, 1)]), new EpnasLayerGenotype([Conv(1, 16, 0)])],
        Input = Small, Episodes = 2, Steps = 2, Branches = 2, TopK = 2, ChildEpochs = 1, Strategy = strategy, Seed = 7,
        Constraints = constraints ?? new EpnasConstraints(MaxParams: 30_000),
        Policy = new EpnasPolicyOptions { ScaleLstmSize = 16, InsertLstmSize = 16 },
    };

    private EpnasSearchResult<EpnasLayerGenotype> Run(FakeEvaluator eval, EpnasStrategy strategy = EpnasStrategy.Epnas, CancellationToken cancel = default,
        EpnasConstraints? constraints = null, string store = "trials.db")
    {
        using var trials = new SqliteTrialStore(Path.Combine(Dir, store));
        var runner = new TrialRunner(trials, eval, store == "trials.db" ? Dir : Path.Combine(Dir, Path.GetFileNameWithoutExtension(store)));
        var space = new EpnasLayerActions(Small, new EpnasActionOptions { MaxElements = 6, ScaleGroups = 2 });
        return new EpnasSearch<EpnasLayerGenotype>(Options(strategy, constraints), space, runner).Run(cancel);
    }

    [Theory]
    [InlineData(EpnasStrategy.Epnas)]
    [InlineData(EpnasStrategy.Random)]
    public void TheExplorationLimit_KeepsEveryTrainedChildWithinIt(EpnasStrategy strategy)
    {
        // Without a limit, some children of this search are far above a 2,000-parameter bound; with MaxViolation 1 none
        // is trained above 4,000, and there are as many children as before.
        var free = new EpnasConstraints(MaxParams: 2_000);
        EpnasSearchResult<EpnasLayerGenotype> unlimited = Run(new FakeEvaluator(), strategy, constraints: free, store: "free.db");
        Assert.Contains(unlimited.Children, c => c.Resources.Parameters > 4_000);
        var eval = new FakeEvaluator();
        EpnasSearchResult<EpnasLayerGenotype> limited = Run(eval, strategy, constraints: free with { MaxViolation = 1 }, store: "limited.db");
        Assert.Equal(unlimited.Children.Count, limited.Children.Count);
        Assert.All(limited.Children, c => Assert.InRange(c.Resources.Parameters, 1, 4_000));
    }

    [Fact]
    public void Search_EvaluatesEveryStepOfEveryBranch_WithRewardsFromTheConstraints()
    {
        EpnasSearchResult<EpnasLayerGenotype> r = Run(new FakeEvaluator());
        Assert.Equal(8, r.Children.Count);
        Assert.Equal(["ep0/step0/branch0", "ep0/step0/branch1", "ep0/step1/branch0"], r.Children.Take(3).Select(c => c.Key));
        foreach (EpnasChild<EpnasLayerGenotype> c in r.Children)
        {
            Assert.True(c.Genotype.IsValidFor(Small));
            Assert.Equal(new EpnasConstraints(MaxParams: 30_000).Reward(c.Accuracy, c.Resources), c.Reward, 12);
            Assert.Equal(c.Resources.Parameters <= 30_000, c.SatisfiesConstraints);
        }
        IReadOnlyList<EpnasChild<EpnasLayerGenotype>> top = r.Top(3);
        Assert.True(top.Zip(top.Skip(1)).All(p => p.First.Reward >= p.Second.Reward));
    }

    [Fact]
    public void FeasibleFirstRanking_ListsEverySatisfyingChildBeforeAViolator_ByReward()
    {
        // Three children, the most accurate 4 % over a 10,000-parameter bound: by reward (p = 0.9) it ranks first, since
        // 0.80 × 0.9^0.04 > 0.78; feasible first it ranks last. A twin of the first child is listed once.
        var bound = new EpnasConstraints(MaxParams: 10_000);
        EpnasChild<EpnasLayerGenotype> Child(string key, int channels, long parameters, double accuracy)
        {
            var r = new EpnasResources(parameters, 1_000, 1_000);
            return new EpnasChild<EpnasLayerGenotype>(0, 0, 0, key, new EpnasLayerGenotype([Conv(3, channels, 0)]), new EpnasAction([], [], []),
                new TrialMetrics { ValidationAccuracy = accuracy }, r, bound.Reward(accuracy, r), bound.Evaluate(r));
        }
        var result = new EpnasSearchResult<EpnasLayerGenotype>(
            [Child("a", 16, 9_000, 0.70), Child("over", 32, 10_400, 0.80), Child("b", 24, 9_900, 0.78), Child("a-twin", 16, 9_000, 0.70)], 4);
        Assert.Equal(["over", "b", "a"], result.Top(5).Select(c => c.Key));
        Assert.Equal(["over", "b", "a"], result.Top(5, EpnasRanking.Reward).Select(c => c.Key));
        Assert.Equal(["b", "a", "over"], result.Top(5, EpnasRanking.FeasibleFirst).Select(c => c.Key));
        Assert.Equal(["b", "a"], result.Top(2, EpnasRanking.FeasibleFirst).Select(c => c.Key));
    }

    [Fact]
    public void Resume_AfterACancelledRun_TrainsNoCompletedChildAgain_AndReplaysTheSameSearch()
    {
        EpnasSearchResult<EpnasLayerGenotype> whole;
        var reference = new FakeEvaluator();
        string other = Dir + "-ref";
        try
        {
            using var store = new SqliteTrialStore(Path.Combine(other + ".db"));
            var space = new EpnasLayerActions(Small, new EpnasActionOptions { MaxElements = 6, ScaleGroups = 2 });
            whole = new EpnasSearch<EpnasLayerGenotype>(Options(), space, new TrialRunner(store, reference, other)).Run();
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            File.Delete(other + ".db");
            if (Directory.Exists(other)) Directory.Delete(other, true);
        }

        using var cts = new CancellationTokenSource();
        var first = new FakeEvaluator { CancelAtCall = 3, Cancel = cts };
        Assert.ThrowsAny<OperationCanceledException>(() => Run(first, cancel: cts.Token));
        var second = new FakeEvaluator();
        EpnasSearchResult<EpnasLayerGenotype> resumed = Run(second);
        Assert.Empty(first.Evaluated.Intersect(second.Evaluated));
        Assert.Equal(reference.Evaluated.Count, first.Evaluated.Count + second.Evaluated.Count);
        Assert.Equal(whole.Children.Select(c => c.Genotype), resumed.Children.Select(c => c.Genotype));
        Assert.Equal(whole.Children.Select(c => c.Reward), resumed.Children.Select(c => c.Reward));
        var third = new FakeEvaluator();
        Run(third);
        Assert.Empty(third.Evaluated);
    }

    [Fact]
    public void RandomSearch_RunsOverTheSameSpaceAndBudget()
    {
        EpnasSearchResult<EpnasLayerGenotype> r = Run(new FakeEvaluator(), EpnasStrategy.Random);
        Assert.Equal(8, r.Children.Count);
        Assert.All(r.Children, c => Assert.True(c.Genotype.IsValidFor(Small)));
    }
}

/// <summary>Random seed networks.</summary>
public sealed class EpnasSeedTests
{
    [Fact]
    public void RandomSeeds_GrowByValidInsertions_AndDependOnlyOnTheSeed()
    {
        var input = new InputSpec(3, 8, 8, 2);
        var layers = new EpnasLayerActions(input, new EpnasActionOptions { MaxElements = 8 });
        EpnasLayerGenotype a = EpnasSeeds.Random(layers, EpnasSeeds.MinimalLayerNetwork(), 5, new SharpNas.Engine.SeededRandom(1));
        EpnasLayerGenotype b = EpnasSeeds.Random(layers, EpnasSeeds.MinimalLayerNetwork(), 5, new SharpNas.Engine.SeededRandom(1));
        Assert.Equal(6, a.Layers.Count);
        Assert.Equal(a, b);
        Assert.True(a.IsValidFor(input));
        EpnasModuleGenotype cell = EpnasSeeds.Random(new EpnasModuleActions(), EpnasSeeds.MinimalCell(), 20, new SharpNas.Engine.SeededRandom(2));
        Assert.Equal(8, cell.Branches.Count);   // stops at the action space's 8 branches
        Assert.True(cell.IsValidFor(input));
    }
}
