using SharpNas.Search.Evaluators;
using SharpNas.Search.Spaces;
using SharpNas.Search.Spaces.StageWise;
using SharpNas.Search.Strategies.Discrete;
using SharpNas.Search.Strategies.Evolution;
using SharpNas.Search.Strategies.RandomSearch;
using SharpNas.Search.Strategies.Reinforce;
using SharpNas.Search.Trials;

namespace SharpNas.Tests.Trials;

/// <summary>Batches of children: M proposals per strategy update, evaluated through the store, resumable mid-batch;
/// and <see cref="TrialRunner.RunMany"/>.</summary>
public sealed class BatchedSearchTests() : TempFolderTests("batched")
{
    private static readonly DiscreteSpace Space = SmokeEvaluator.Space(5, 4);

    private static readonly ReinforceOptions Controller = new()
    {
        Controller = new ControllerOptions { HiddenSize = 8, EmbeddingSize = 8 }, LearningRate = 0.05, EntropyWeight = 0, BatchSize = 4,
    };

    /// <summary>Counts evaluations and can fail or cancel at a given one.</summary>
    private sealed class CountingEvaluator(IDiscreteSpace space) : IDiscreteEvaluator
    {
        private readonly SmokeEvaluator _smoke = new(space, 0);
        public int Calls { get; private set; }
        public int? CancelAtCall { get; init; }
        public CancellationTokenSource? Cancel { get; init; }
        public Func<int[], bool>? Fails { get; init; }

        public DiscreteEvaluation Evaluate(int[] sample, CancellationToken cancel)
        {
            if (++Calls == CancelAtCall) { Cancel!.Cancel(); cancel.ThrowIfCancellationRequested(); }
            if (Fails?.Invoke(sample) == true) throw new InvalidOperationException("diverged");
            return _smoke.Evaluate(sample, cancel);
        }
    }

    [Fact]
    public void Reinforce_BatchOfItsOwnBatchSize_ProposesExactlyTheSequentialSamples()
    {
        // The controller changes only after each batch of 4, so sampling the batch ahead changes nothing.
        DiscreteSearchResult one = new DiscreteSearch(new ReinforceStrategy(Space, 3, Controller), new SmokeEvaluator(Space, 0)).Run(new DiscreteBudget(MaxQueries: 16));
        using var store = new SqliteTrialStore(Path.Combine(Dir, "r.db"));
        var batched = new DiscreteSearch(new ReinforceStrategy(Space, 3, Controller), new SmokeEvaluator(Space, 0), store) { ChildrenPerUpdate = 4 };
        DiscreteSearchResult four = batched.Run(new DiscreteBudget(MaxQueries: 16));
        Assert.Equal(one.History.Select(o => Space.Key(o.Sample)), four.History.Select(o => Space.Key(o.Sample)));
        Assert.Equal(16, four.EvaluatedNow);
    }

    [Fact]
    public void Evolution_InBatches_ProposesEachBatchFromOnePopulation_AndResumesMidBatchExactly()
    {
        var options = new EvolutionOptions { Population = 4, SampleSize = 2 };
        DiscreteSearchResult whole = new DiscreteSearch(new RegularizedEvolution(Space, 8, options), new SmokeEvaluator(Space, 0),
            new SqliteTrialStore(Path.Combine(Dir, "whole.db"))) { ChildrenPerUpdate = 3 }.Run(new DiscreteBudget(MaxQueries: 15));

        string db = Path.Combine(Dir, "killed.db");
        using (var cancel = new CancellationTokenSource())
        using (var store = new SqliteTrialStore(db))
        {
            var evaluator = new CountingEvaluator(Space) { CancelAtCall = 8, Cancel = cancel };   // stops inside the third batch
            Assert.ThrowsAny<OperationCanceledException>(() =>
                new DiscreteSearch(new RegularizedEvolution(Space, 8, options), evaluator, store) { ChildrenPerUpdate = 3 }.Run(new DiscreteBudget(MaxQueries: 15), cancel.Token));
            Assert.Equal(TrialStatus.Queued, store.Find(DiscreteSearch.TrialKey(7))!.Status);   // given back, not lost
            Assert.Equal(0, store.Find(DiscreteSearch.TrialKey(7))!.Attempts);
        }
        using (var store = new SqliteTrialStore(db))
        {
            var evaluator = new CountingEvaluator(Space);
            DiscreteSearchResult resumed = new DiscreteSearch(new RegularizedEvolution(Space, 8, options), evaluator, store) { ChildrenPerUpdate = 3 }
                .Run(new DiscreteBudget(MaxQueries: 15));
            Assert.Equal(whole.History.Select(o => Space.Key(o.Sample)), resumed.History.Select(o => Space.Key(o.Sample)));
            Assert.Equal(15 - 7, evaluator.Calls);   // samples 0–6 were done; 7 and 8 of the third batch were queued
            Assert.Equal(15, store.All().Count);
        }
    }

    [Fact]
    public void ATrialThatKeepsFailing_IsFailedAfterMaxAttempts_AndTheSearchGoesOnWithTheFailedReward()
    {
        using var store = new SqliteTrialStore(Path.Combine(Dir, "f.db"));
        int[]? bad = null;
        var evaluator = new CountingEvaluator(Space) { Fails = s => s.SequenceEqual(bad ??= s) };   // the first sample always fails
        var search = new DiscreteSearch(new RandomSearchStrategy(Space, 2), evaluator, store)
        {
            ChildrenPerUpdate = 2, FailedReward = -1, Lease = new LeaseOptions { MaxAttempts = 3 },
        };
        DiscreteSearchResult r = search.Run(new DiscreteBudget(MaxQueries: 4));
        Trial failed = store.Find(DiscreteSearch.TrialKey(0))!;
        Assert.Equal((TrialStatus.Failed, 3, "diverged"), (failed.Status, failed.Attempts, failed.Error));
        Assert.Equal(-1, r.History[0].Reward);
        Assert.Equal(4, r.History.Count);
        Assert.Equal(3 + 3, evaluator.Calls);
        Assert.Equal(4, DiscreteSearch.LoadHistory(store, Space, failedReward: -1).Count);
        Assert.Empty(DiscreteSearch.LoadHistory(store, Space));   // without a failed reward, the failure is a gap
    }

    private sealed class FixedEvaluator : IEvaluator
    {
        public List<string> Order { get; } = [];

        public TrialMetrics Evaluate(TrialRequest request, CancellationToken cancel)
        {
            Order.Add(request.Key);
            return new TrialMetrics { ValidationAccuracy = ((StageGenotype)request.Architecture).Depths.Sum() / 10.0 };
        }
    }

    [Fact]
    public void RunMany_EnqueuesTheWholeBatchFirst_ThenRunsItInOrder_AndRecallsCompletedTrials()
    {
        using var store = new SqliteTrialStore(Path.Combine(Dir, "many.db"));
        var evaluator = new FixedEvaluator();
        var runner = new TrialRunner(store, evaluator, Dir);
        int queuedWhenFirstStarted = -1;
        runner.Started += _ => { if (queuedWhenFirstStarted < 0) queuedWhenFirstStarted = store.All().Count(t => t.Status == TrialStatus.Queued); };
        TrialSpec[] batch = [.. new[] { 1, 2, 3 }.Select(d => new TrialSpec($"b/{d}", "child", new StageGenotype(StageModule.Basic, [d, d, d], 4), 1))];
        IReadOnlyList<TrialMetrics> first = runner.RunMany(batch);
        Assert.Equal([0.3, 0.6, 0.9], first.Select(m => m.ValidationAccuracy!.Value).ToArray(), (a, b) => Math.Abs(a - b) < 1e-12);
        Assert.Equal(2, queuedWhenFirstStarted);   // the first was running, the other two already queued
        Assert.Equal(["b/1", "b/2", "b/3"], evaluator.Order);
        runner.RunMany(batch);
        Assert.Equal(3, evaluator.Order.Count);   // recalled from the store
        Assert.Throws<ArgumentException>(() => runner.RunMany([batch[0], batch[0]]));
    }
}
