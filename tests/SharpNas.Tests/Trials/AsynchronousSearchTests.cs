using System.Text.Json.Nodes;
using SharpNas.Search.Evaluators;
using SharpNas.Search.Spaces;
using SharpNas.Search.Strategies.Discrete;
using SharpNas.Search.Strategies.Evolution;
using SharpNas.Search.Strategies.RandomSearch;
using SharpNas.Search.Strategies.Reinforce;
using SharpNas.Search.Trials;

namespace SharpNas.Tests.Trials;

/// <summary>Asynchronous regularized evolution and random search: M trials in flight, a new child proposed as soon as
/// any finishes; deterministic without workers (and the sequential search with M = 1); resumable.</summary>
public sealed class AsynchronousSearchTests() : TempFolderTests("async")
{
    private static readonly DiscreteSpace Space = SmokeEvaluator.Space(5, 4);
    private static readonly EvolutionOptions Evolution = new() { Population = 4, SampleSize = 2 };

    private static RegularizedEvolution Evo() => new(Space, 8, Evolution);

    private SqliteTrialStore Store(string name) => new(Path.Combine(Dir, name + ".db"), name);

    private static string[] Keys(DiscreteSearchResult r) => r.History.Select(o => Space.Key(o.Sample)).ToArray();

    /// <summary>The smoke reward, after an optional pause; cancels the search at a given call.</summary>
    private sealed class FakeEvaluator(double seconds = 0) : IDiscreteEvaluator
    {
        private readonly SmokeEvaluator _smoke = new(Space, seconds);
        private int _calls;
        public int Calls => _calls;
        public int? CancelAtCall { get; init; }
        public CancellationTokenSource? Cancel { get; init; }

        public DiscreteEvaluation Evaluate(int[] sample, CancellationToken cancel)
        {
            if (Interlocked.Increment(ref _calls) == CancelAtCall) { Cancel!.Cancel(); cancel.ThrowIfCancellationRequested(); }
            return _smoke.Evaluate(sample, cancel);
        }
    }

    [Fact]
    public void WithoutWorkers_TheSearchIsDeterministic_TheSameWithOrWithoutAStore_AndWithOneInFlightItIsTheSequentialSearch()
    {
        DiscreteSearchResult Async(int m, ITrialStore? store) =>
            new DiscreteSearch(Evo(), new FakeEvaluator(), store) { Asynchronous = true, ChildrenPerUpdate = m }.Run(new DiscreteBudget(MaxQueries: 20));

        using SqliteTrialStore a = Store("a"), b = Store("b"), one = Store("one");
        DiscreteSearchResult first = Async(3, a), second = Async(3, b), noStore = Async(3, null);
        Assert.Equal(Keys(first), Keys(second));
        Assert.Equal(Keys(first), Keys(noStore));
        Assert.Equal(20, first.EvaluatedNow);
        Assert.Equal(Enumerable.Range(0, 20).Select(DiscreteSearch.TrialKey), a.All().Select(t => t.Key));

        DiscreteSearchResult sequential = new DiscreteSearch(Evo(), new FakeEvaluator()).Run(new DiscreteBudget(MaxQueries: 20));
        Assert.Equal(Keys(sequential), Keys(Async(1, one)));
        // Breeding from whatever has finished is another search than breeding each batch of 3 from one population.
        DiscreteSearchResult batches = new DiscreteSearch(Evo(), new FakeEvaluator(), Store("batches")) { ChildrenPerUpdate = 3 }.Run(new DiscreteBudget(MaxQueries: 20));
        Assert.NotEqual(Keys(batches), Keys(first));

        // Random search proposes the same samples whatever the schedule.
        DiscreteSearchResult random = new DiscreteSearch(new RandomSearchStrategy(Space, 4), new FakeEvaluator(), Store("random")) { Asynchronous = true, ChildrenPerUpdate = 5 }
            .Run(new DiscreteBudget(MaxQueries: 12));
        Assert.Equal(Keys(new DiscreteSearch(new RandomSearchStrategy(Space, 4), new FakeEvaluator()).Run(new DiscreteBudget(MaxQueries: 12))), Keys(random));
    }

    [Fact]
    public void AStrategyThatProposesInBatches_CannotRunAsynchronously()
    {
        var controller = new ReinforceStrategy(Space, 1, new ReinforceOptions { Controller = new ControllerOptions { HiddenSize = 4, EmbeddingSize = 4 } });
        var e = Assert.Throws<ArgumentException>(() => new DiscreteSearch(controller, new FakeEvaluator(), Store("rl")) { Asynchronous = true }.Run(new DiscreteBudget(MaxQueries: 2)));
        Assert.Contains("cannot run asynchronously", e.Message);
    }

    [Fact]
    public async Task WhileOneWorkerHoldsATrial_TheCoordinatorKeepsProposingAsOthersFinish_AndObservesItLast()
    {
        string db = Path.Combine(Dir, "w.db");
        var lease = new LeaseOptions { Lease = TimeSpan.FromSeconds(30), Poll = TimeSpan.FromMilliseconds(10) };
        using var release = new ManualResetEventSlim(false);
        using var stop = new CancellationTokenSource();
        Trial? held = null;
        // A worker (another process, in effect: its own connection and owner name) that takes one trial and holds it.
        var slowWorker = Task.Run(() =>
        {
            using var store = new SqliteTrialStore(db, "w");
            var worker = new TrialWorker(store, lease, "elsewhere:1:slow");
            while (held is null && !stop.IsCancellationRequested)
            {
                if (worker.RunOne((t, c) =>
                    {
                        held = t;
                        release.Wait(c);
                        return DiscreteSearch.EvaluateTrial(new FakeEvaluator(), Space, t, c);
                    }, stop.Token) is null)
                    Thread.Sleep(5);
            }
        });
        DiscreteSearchResult result;
        using (var store = new SqliteTrialStore(db, "w"))
        {
            var search = new DiscreteSearch(Evo(), new FakeEvaluator(seconds: 0.05), store) { Asynchronous = true, ChildrenPerUpdate = 3, Lease = lease };
            Task<DiscreteSearchResult> coordinator = Task.Run(() => search.Run(new DiscreteBudget(MaxQueries: 10), stop.Token));
            try
            {
                DateTime until = DateTime.UtcNow + TimeSpan.FromMinutes(2);
                // With batches of 3 nothing past the held trial's batch could start; here all 10 are proposed and 9 finish.
                while (!(held is not null && store.All().Count(t => t.Status == TrialStatus.Completed) == 9) && DateTime.UtcNow < until && !coordinator.IsCompleted)
                    Thread.Sleep(20);
                Assert.NotNull(held);
                IReadOnlyList<Trial> trials = store.All();
                Assert.Equal(10, trials.Count);
                Assert.Equal(9, trials.Count(t => t.Status == TrialStatus.Completed));
                Assert.Equal((TrialStatus.Running, "elsewhere:1:slow"), (store.Find(held!.Key)!.Status, store.Find(held.Key)!.LeaseOwner));
                Assert.False(coordinator.IsCompleted);   // it waits for the held trial
            }
            finally
            {
                release.Set();
                if (held is null) stop.Cancel();
            }
            result = await coordinator.WaitAsync(TimeSpan.FromMinutes(2));
            await slowWorker.WaitAsync(TimeSpan.FromMinutes(1));
            Assert.Equal(10, result.History.Count);
            Assert.Equal(held!.Genotype["key"]!.GetValue<string>(), Space.Key(result.History[^1].Sample));   // observed when it finished: last
            Assert.Equal(9, result.EvaluatedNow);
            Assert.All(store.All(), t => Assert.Equal((TrialStatus.Completed, 1), (t.Status, t.Attempts)));
        }
    }

    [Fact]
    public void AKilledCoordinator_ResumesFromTheStore_EnqueuingNothingTwice_AndWithoutWorkersEndsAsTheUninterruptedRun()
    {
        DiscreteSearchResult whole = new DiscreteSearch(Evo(), new FakeEvaluator(), Store("whole")) { Asynchronous = true, ChildrenPerUpdate = 3 }
            .Run(new DiscreteBudget(MaxQueries: 15));
        using (var cancel = new CancellationTokenSource())
        using (SqliteTrialStore store = Store("killed"))
        {
            var evaluator = new FakeEvaluator { CancelAtCall = 7, Cancel = cancel };
            Assert.ThrowsAny<OperationCanceledException>(() =>
                new DiscreteSearch(Evo(), evaluator, store) { Asynchronous = true, ChildrenPerUpdate = 3 }.Run(new DiscreteBudget(MaxQueries: 15), cancel.Token));
            Assert.Equal(9, store.All().Count);   // 6 finished, 3 in flight (the one being evaluated given back)
            Assert.Equal(6, store.All().Count(t => t.Status == TrialStatus.Completed));
        }
        using (SqliteTrialStore store = Store("killed"))
        {
            var evaluator = new FakeEvaluator();
            var replayed = new List<bool>();
            var search = new DiscreteSearch(Evo(), evaluator, store) { Asynchronous = true, ChildrenPerUpdate = 3 };
            search.Observed += (_, _, fromStore) => replayed.Add(fromStore);
            DiscreteSearchResult resumed = search.Run(new DiscreteBudget(MaxQueries: 15));
            Assert.Equal(Keys(whole), Keys(resumed));
            Assert.Equal(15 - 6, evaluator.Calls);
            Assert.Equal(Enumerable.Repeat(true, 6).Concat(Enumerable.Repeat(false, 9)), replayed);
            Assert.Equal(Enumerable.Range(0, 15).Select(DiscreteSearch.TrialKey), store.All().Select(t => t.Key));
            Assert.All(store.All(), t => Assert.Equal(TrialStatus.Completed, t.Status));
        }
    }

    [Fact]
    public void Status_ShowsPrunedTrialsWithTheEpochReached_AndTheEpochARunningTrialReported()
    {
        string db = Path.Combine(Dir, "runs", "st", "trials.db");
        using (var store = new SqliteTrialStore(db, "st"))
        {
            store.SaveSearch("nasnet", []);
            store.GetOrAdd("sample/000000", "sample", new JsonObject { ["key"] = "a" }, new JsonObject { ["epochs"] = 5 });
            store.GetOrAdd("sample/000001", "sample", new JsonObject { ["key"] = "b" }, new JsonObject { ["epochs"] = 5 });
            store.Lease("hostx:1:w1", new LeaseOptions());
            store.CompleteLease("sample/000000", "hostx:1:w1", new TrialMetrics
            {
                Epochs = 5, EpochsReached = 2, ValidationAccuracy = 0.125, ValidCurve = [0.1, 0.125], PruneReason = "scripted cut",
            }.ToJson(), pruned: true);
            store.Lease("hostx:1:w1", new LeaseOptions());
            store.ReportEpochs("sample/000001", [0.2, 0.3, 0.4]);
        }
        using var p = new CliProcess(Dir, "status", "--store", db);
        Assert.Equal(0, p.Wait(TimeSpan.FromMinutes(2)));
        string text = p.Output;
        Assert.Contains("pruned trials", text);
        Assert.Contains("2 of 5", text);
        Assert.Contains("12.50", text);
        Assert.Contains("scripted cut", text);
        Assert.Contains("epoch 3 of 5", text);   // what sample/000001 reported so far
    }
}
