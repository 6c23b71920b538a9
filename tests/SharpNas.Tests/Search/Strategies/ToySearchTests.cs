using SharpNas.Engine;
using SharpNas.Search.Spaces;
using SharpNas.Search.Strategies.Discrete;
using SharpNas.Search.Strategies.Evolution;
using SharpNas.Search.Strategies.RandomSearch;
using SharpNas.Search.Strategies.Reinforce;
using SharpNas.Search.Trials;

namespace SharpNas.Tests.Search.Strategies;

public sealed class ToySearchTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "sharpnas-discrete-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    /// <summary>A small controller so the toy runs take well under a second.</summary>
    private static readonly ReinforceOptions SmallController = new()
    {
        Controller = new ControllerOptions { HiddenSize = 8, EmbeddingSize = 8 },
        LearningRate = 0.02, BaselineDecay = 0.9, EntropyWeight = 0,
    };

    private static readonly int[] Target = [3, 1, 0, 2, 2, 1];

    private static DiscreteSearchResult Run(IDiscreteStrategy strategy, ToyEvaluator evaluator, int queries, ITrialStore? store = null) =>
        new DiscreteSearch(strategy, evaluator, store).Run(new DiscreteBudget(MaxQueries: queries));

    [Theory]
    [InlineData(PolicyGradient.Reinforce, 1)]
    [InlineData(PolicyGradient.Ppo, 8)]
    public void Controller_OnHammingReward_ImprovesItsMeanRewardAndFindsTheTarget(PolicyGradient algorithm, int batch)
    {
        var space = ToyEvaluator.Space(6, 4);
        var toy = new ToyEvaluator(Target, hamming: true);
        var strategy = new ReinforceStrategy(space, 1, SmallController with { Algorithm = algorithm, BatchSize = batch, MinibatchSize = 4 });
        DiscreteSearchResult r = Run(strategy, toy, 160);
        double first = r.History.Take(40).Average(o => o.Reward), last = r.History.TakeLast(40).Average(o => o.Reward);
        Assert.True(last > first + 0.3, $"{algorithm}: mean reward {first:0.000} over the first 40 samples, {last:0.000} over the last 40");
        Assert.True(toy.FirstHit(r.History) >= 0, $"{algorithm}: target never sampled");
        Assert.Equal(160 / batch, strategy.Updates);
    }

    [Fact]
    public void Evolution_OnHammingReward_FindsTheTargetWellBeforeRandomSearchWould()
    {
        // 4^6 = 4,096 sequences: random search needs ~4,096 queries on average, evolution far fewer.
        var toy = new ToyEvaluator(Target, hamming: true);
        DiscreteSearchResult r = Run(new RegularizedEvolution(ToyEvaluator.Space(6, 4), 2, new EvolutionOptions { Population = 20, SampleSize = 5 }), toy, 400);
        int hit = toy.FirstHit(r.History);
        Assert.InRange(hit, 0, 399);
        Assert.Equal(1.0, r.Best.Reward);
    }

    [Fact]
    public void RandomSearch_OnNeedleReward_FindsTheTargetOfASmallSpaceWithinTheBudget()
    {
        // 3^4 = 81 sequences, 600 queries: missed with probability (80/81)^600 < 0.1 %.
        int[] target = [2, 0, 1, 1];
        var toy = new ToyEvaluator(target, hamming: false);
        DiscreteSearchResult r = Run(new RandomSearchStrategy(ToyEvaluator.Space(4, 3), 3), toy, 600);
        Assert.InRange(toy.FirstHit(r.History), 0, 599);
        Assert.Equal(target, r.Best.Sample);
    }

    public static TheoryData<string> StrategyNames => new() { "random", "evolution", "reinforce", "ppo" };

    private static IDiscreteStrategy Create(string name, ulong seed)
    {
        DiscreteSpace space = ToyEvaluator.Space(6, 4);
        return name switch
        {
            "random" => new RandomSearchStrategy(space, seed),
            "evolution" => new RegularizedEvolution(space, seed, new EvolutionOptions { Population = 8, SampleSize = 3 }),
            "reinforce" => new ReinforceStrategy(space, seed, SmallController),
            _ => new ReinforceStrategy(space, seed, SmallController with { Algorithm = PolicyGradient.Ppo, BatchSize = 6, MinibatchSize = 3 }),
        };
    }

    [Theory]
    [MemberData(nameof(StrategyNames))]
    public void Search_SameSeed_SameHistory_OtherSeed_OtherHistory(string name)
    {
        string Keys(IDiscreteStrategy s) => string.Join(" ", Run(s, new ToyEvaluator(Target, true), 40).History.Select(o => s.Space.Key(o.Sample)));
        string a = Keys(Create(name, 5)), b = Keys(Create(name, 5)), c = Keys(Create(name, 6));
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Theory]
    [MemberData(nameof(StrategyNames))]
    public void Search_ResumedFromTheTrialStore_ContinuesExactlyAsAnUninterruptedRun(string name)
    {
        Directory.CreateDirectory(_dir);
        DiscreteSearchResult whole = Run(Create(name, 9), new ToyEvaluator(Target, true), 36);

        string db = Path.Combine(_dir, name + ".db");
        using (var store = new SqliteTrialStore(db)) Run(Create(name, 9), new ToyEvaluator(Target, true), 17, store);   // "killed" after 17
        var toy = new ToyEvaluator(Target, true);
        DiscreteSearchResult resumed;
        using (var store = new SqliteTrialStore(db))
        {
            Assert.Equal(17, DiscreteSearch.LoadHistory(store, ToyEvaluator.Space(6, 4)).Count);
            Assert.Equal("sample/000016", store.All()[^1].Key);
            resumed = Run(Create(name, 9), toy, 36, store);
        }
        Assert.Equal(36 - 17, toy.Calls);
        Assert.Equal(whole.History.Select(o => o.Sample), resumed.History.Select(o => o.Sample));
        Assert.Equal(36 - 17, resumed.EvaluatedNow);
        Assert.Equal(36.0, resumed.TotalCost);
    }

    [Fact]
    public void Search_OnAStoreOfAnotherSeed_RefusesToContinue()
    {
        Directory.CreateDirectory(_dir);
        string db = Path.Combine(_dir, "other.db");
        using (var store = new SqliteTrialStore(db)) Run(Create("random", 1), new ToyEvaluator(Target, true), 3, store);
        using (var store = new SqliteTrialStore(db))
        {
            // Fresh trial rows would collide with the stored queued one only if a run was killed mid-trial: simulate it.
            store.GetOrAdd(DiscreteSearch.TrialKey(3), DiscreteSearch.Role, new System.Text.Json.Nodes.JsonObject { ["key"] = "0-0-0-0-0-0", ["choices"] = new System.Text.Json.Nodes.JsonArray(0, 0, 0, 0, 0, 0) }, []);
            var e = Assert.Throws<InvalidDataException>(() => Run(Create("random", 2), new ToyEvaluator(Target, true), 5, store));
            Assert.Contains("sample/000003", e.Message);
        }
    }

    [Fact]
    public void Evolution_Mutate_ChangesExactlyOneDecisionToAnotherValue()
    {
        var evo = new RegularizedEvolution(new DiscreteSpace([new DiscreteDecision("a", 1), new DiscreteDecision("b", 3), new DiscreteDecision("c", 2)]), 1);
        var rng = new SeededRandom(4);
        int[] parent = [0, 2, 1];
        var changed = new HashSet<int>();
        for (int i = 0; i < 200; i++)
        {
            int[] child = evo.Mutate(parent, rng);
            int[] diff = Enumerable.Range(0, 3).Where(d => child[d] != parent[d]).ToArray();
            Assert.Single(diff);
            changed.Add(diff[0]);
        }
        Assert.Equal([1, 2], changed.Order());   // decision "a" has no other value
    }

    [Fact]
    public void Evolution_AfterThePopulationIsFull_ProposesAMutantOfARecentMember()
    {
        var space = ToyEvaluator.Space(6, 4);
        var evo = new RegularizedEvolution(space, 3, new EvolutionOptions { Population = 5, SampleSize = 2 });
        var toy = new ToyEvaluator(Target, true);
        Run(evo, toy, 30);
        int[] next = evo.Propose();
        var population = evo.CurrentPopulation().ToList();
        Assert.Equal(5, population.Count);
        Assert.Equal(evo.History.TakeLast(5), population);
        Assert.Contains(population, m => m.Sample.Zip(next, (a, b) => a != b).Count(x => x) == 1);
        Assert.Equal(next, evo.Propose());   // idempotent until observed
    }
}
