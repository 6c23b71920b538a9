using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using SharpNas.Engine;
using SharpNas.Engine.IO;
using SharpNas.Search.Evaluators;
using SharpNas.Search.Spaces.Epnas;
using SharpNas.Search.Spaces.StageWise;
using SharpNas.Search.Strategies.Epnas;
using SharpNas.Search.Strategies.StageWise;
using SharpNas.Search.Trials;
using SharpNas.Tests.Data;
using SharpNas.Training;
using static SharpNas.Tests.Search.Epnas.EpnasGenotypeTests;

namespace SharpNas.Tests.Trials;

/// <summary>
/// EPNAS and stage-wise trials shared with workers (<see cref="LeasedTrialRunner"/>): workers on other threads, each
/// with its own store connection to the same SQLite file, lease and evaluate what the coordinator enqueues; the search
/// ends as the sequential one does, with every trial evaluated once.
/// </summary>
public sealed class ParallelTrialsTests : IDisposable
{
    private static readonly InputSpec Small = new(3, 8, 8, 2);
    private static readonly LeaseOptions Lease = new() { Lease = TimeSpan.FromSeconds(30), Poll = TimeSpan.FromMilliseconds(10) };
    private readonly TestFolder _folder = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _folder.Dispose();
    }

    /// <summary>Accuracy from the parameter count (the same in every process), after a pause; records who evaluated what
    /// and how many evaluations overlapped.</summary>
    private sealed class FakeEvaluator(ConcurrentBag<string> log, int millis) : IEvaluator
    {
        private static readonly object Gate = new();
        private static int _running;
        public static int MaxRunning;

        public static void Reset() => (_running, MaxRunning) = (0, 0);

        public TrialMetrics Evaluate(TrialRequest request, CancellationToken cancel)
        {
            int now = Interlocked.Increment(ref _running);
            lock (Gate) MaxRunning = Math.Max(MaxRunning, now);
            try
            {
                log.Add(request.Key);
                Thread.Sleep(millis);
                long p = request.Architecture.Cost(Small).Parameters;
                var m = new TrialMetrics { ValidationAccuracy = 1 - 1.0 / (1 + p / 20_000.0), Parameters = p, Epochs = request.Epochs };
                if (request.Architecture is StageGenotype g)
                    m = m with { ValidationAccuracy = 0.5 + 0.01 * g.Depths.Sum(), StageScores = [1 - 1.0 / (g.Depths[0] + 1), 0.5, Math.Min(g.Depths[2], 4) / 10.0] };
                return m;
            }
            finally { Interlocked.Decrement(ref _running); }
        }
    }

    /// <summary>Worker threads, each with its own connection to the SQLite file, leasing the trials of one search until stopped.</summary>
    private sealed class WorkerThreads : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly List<Thread> _threads = [];
        private readonly ConcurrentBag<Exception> _errors = [];

        public WorkerThreads(int count, string db, string searchId, string root, IEvaluator evaluator)
        {
            for (int i = 0; i < count; i++)
            {
                string name = "thread" + i;
                var t = new Thread(() =>
                {
                    try
                    {
                        using var store = new SqliteTrialStore(db, searchId);
                        var worker = new TrialWorker(store, Lease, TrialWorker.OwnerName(name));
                        while (!_stop.IsCancellationRequested)
                            if (worker.RunOne((trial, c) => LeasedTrialRunner.EvaluateTrial(evaluator, store, root, trial, c), _stop.Token) is null)
                                _stop.Token.WaitHandle.WaitOne(Lease.Poll);
                    }
                    catch (OperationCanceledException) when (_stop.IsCancellationRequested) { }
                    catch (Exception e) { _errors.Add(e); }
                });
                _threads.Add(t);
                t.Start();
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            foreach (Thread t in _threads) t.Join();
            _stop.Dispose();
            Assert.Empty(_errors);
        }
    }

    private static EpnasSearchOptions<EpnasLayerGenotype> Options(int episodes, int steps, int branches) => new()
    {
        Seeds = [new EpnasLayerGenotype([Conv(3, 32, 0), Pool(2, 1)]), new EpnasLayerGenotype([Conv(1, 16, 0)]), new EpnasLayerGenotype([Conv(3, 16, 0)])],
        Input = Small, Episodes = episodes, Steps = steps, Branches = branches, TopK = 2, ChildEpochs = 1, Seed = 11,
        Constraints = new EpnasConstraints(MaxParams: 30_000),
        Policy = new EpnasPolicyOptions { ScaleLstmSize = 16, InsertLstmSize = 16 },
    };

    private static EpnasLayerActions Space() => new(Small, new EpnasActionOptions { MaxElements = 6, ScaleGroups = 2 });

    [Fact]
    public void EpnasSearch_WithAWorkerThreadOnTheSameStore_EndsAsTheSequentialSearch_EveryTrialEvaluatedOnce()
    {
        EpnasSearchOptions<EpnasLayerGenotype> options = Options(episodes: 2, steps: 2, branches: 3);
        string seqDir = Path.Combine(_folder.Path, "seq");
        var seqLog = new ConcurrentBag<string>();
        EpnasSearchResult<EpnasLayerGenotype> sequential;
        int seqRows;
        using (var store = new SqliteTrialStore(Path.Combine(seqDir, "trials.db")))
        {
            sequential = new EpnasSearch<EpnasLayerGenotype>(options, Space(), new TrialRunner(store, new FakeEvaluator(seqLog, 0), seqDir)).Run();
            seqRows = store.All().Count;
        }

        string root = Path.Combine(_folder.Path, "runs"), db = Path.Combine(root, "par", "trials.db");
        var coordinatorLog = new ConcurrentBag<string>();
        var workerLog = new ConcurrentBag<string>();
        EpnasSearchResult<EpnasLayerGenotype> parallel;
        using (var store = new SqliteTrialStore(db, "par"))
        {
            using var workers = new WorkerThreads(1, db, "par", root, new FakeEvaluator(workerLog, 30));
            var runner = new LeasedTrialRunner(store, new FakeEvaluator(coordinatorLog, 30), root, Lease);
            parallel = new EpnasSearch<EpnasLayerGenotype>(options, Space(), runner).Run();
            Assert.Equal(coordinatorLog.Count, runner.Evaluated - TwinsOf(store, coordinatorLog));
        }

        Assert.Equal(sequential.Children.Select(c => (c.Key, c.Genotype.ToJson().ToJsonString(), c.Reward)),
            parallel.Children.Select(c => (c.Key, c.Genotype.ToJson().ToJsonString(), c.Reward)));
        using var check = new SqliteTrialStore(db, "par");
        IReadOnlyList<Trial> trials = check.All();
        Assert.Equal(12, trials.Count);
        Assert.Equal(seqRows, trials.Count);
        Assert.Equal(trials.Count, trials.Select(t => t.Key).Distinct().Count());
        Assert.All(trials, t => Assert.Equal((TrialStatus.Completed, 1), (t.Status, t.Attempts)));
        string[] evaluated = [.. coordinatorLog, .. workerLog];
        Assert.Equal(evaluated.Length, evaluated.Distinct().Count());   // no trial evaluated twice
        Assert.NotEmpty(workerLog);
        // A trial nobody evaluated got the result of an evaluated twin (same architecture and training).
        var evaluatedGenotypes = trials.Where(t => evaluated.Contains(t.Key)).Select(t => t.Genotype.ToJsonString()).ToHashSet();
        Assert.All(trials.Where(t => !evaluated.Contains(t.Key)), t => Assert.Contains(t.Genotype.ToJsonString(), evaluatedGenotypes));
    }

    /// <summary>Trials the coordinator completed without evaluating (answered by a twin).</summary>
    private static int TwinsOf(ITrialStore store, ConcurrentBag<string> evaluatedHere) =>
        store.All().Count(t => t.LeaseOwner?.EndsWith(":coordinator", StringComparison.Ordinal) == true && !evaluatedHere.Contains(t.Key));

    [Fact]
    public void EpnasSearch_HandsTheChildrenOfAStepOverTogether_SoTwoWorkersTrainThemAtOnce()
    {
        FakeEvaluator.Reset();
        string root = Path.Combine(_folder.Path, "runs"), db = Path.Combine(root, "two", "trials.db");
        var log = new ConcurrentBag<string>();
        using var store = new SqliteTrialStore(db, "two");
        EpnasSearchResult<EpnasLayerGenotype> result;
        using (new WorkerThreads(2, db, "two", root, new FakeEvaluator(log, 300)))
        {
            // The coordinator only waits: the two workers train everything.
            var runner = new LeasedTrialRunner(store, new FakeEvaluator(log, 0), root, Lease) { ShouldTrain = () => false };
            result = new EpnasSearch<EpnasLayerGenotype>(Options(episodes: 1, steps: 1, branches: 2), Space(), runner).Run();
            Assert.Equal(0, runner.Evaluated);
        }
        Assert.Equal(2, result.Children.Count);
        Assert.Equal(2, log.Count);
        Assert.Equal(2, FakeEvaluator.MaxRunning);
        Assert.Equal(2, store.All().Select(t => t.LeaseOwner).Distinct().Count());
    }

    [Fact]
    public void LeasedRunner_WritesAChildsStartingWeightsBeforeEnqueuingIt_AndATwinGetsTheEvaluatedResultAndWeights()
    {
        string root = Path.Combine(_folder.Path, "runs");
        using var store = new SqliteTrialStore(Path.Combine(root, "w", "trials.db"), "w");
        var seen = new Dictionary<string, float[]?>();
        var evaluator = new RecordingEvaluator(seen);
        var runner = new LeasedTrialRunner(store, evaluator, root, Lease)
        {
            InitialWeights = t => t.Key == "a" ? new Dictionary<string, Tensor> { ["w"] = Tensor.FromArray([1f, 2f, 3f], 3) } : null,
        };
        EpnasLayerGenotype g1 = new([Conv(3, 16, 0)]), g2 = new([Conv(1, 16, 0)]);
        IReadOnlyList<TrialMetrics?> first = runner.RunMany([new TrialSpec("a", "child", g1, 1), new TrialSpec("b", "child", g2, 1)]);
        IReadOnlyList<TrialMetrics?> second = runner.RunMany([new TrialSpec("c", "child", g1, 1)]);

        Assert.Equal([1f, 2f, 3f], seen["a"]!);
        Assert.Null(seen["b"]);
        Assert.False(seen.ContainsKey("c"));                                  // its twin a was evaluated
        Assert.Equal(first[0]!.ValidationAccuracy, second[0]!.ValidationAccuracy);
        Assert.Equal(LeasedTrialRunner.InitialWeightsFile, store.Find("a")!.Config["initial_weights"]!.GetValue<string>());
        Assert.Null(store.Find("b")!.Config["initial_weights"]);
        string twinWeights = Path.Combine(runner.ArtifactPath(store.Find("c")!), "model.safetensors");
        Assert.Equal(File.ReadAllBytes(Path.Combine(runner.ArtifactPath(store.Find("a")!), "model.safetensors")), File.ReadAllBytes(twinWeights));
        Assert.Equal(Path.Combine("w", "trials", "a"), store.Find("a")!.ArtifactDir);
        Assert.Equal(3, runner.Evaluated);                                     // a and b trained, c completed from its twin, all here

        // A worker given another artifact root does not find the starting weights: an error, not a silent fresh start.
        using var empty = new SqliteTrialStore(Path.Combine(_folder.Path, "empty.db"), "empty");   // no twin to answer from
        Exception e = Assert.Throws<FileNotFoundException>(() =>
            LeasedTrialRunner.EvaluateTrial(evaluator, empty, Path.Combine(_folder.Path, "elsewhere"), store.Find("a")!, default));
        Assert.Contains("starting weights", e.Message);
    }

    /// <summary>Records the starting weights each trial finds in its folder and writes a model file.</summary>
    private sealed class RecordingEvaluator(Dictionary<string, float[]?> seen) : IEvaluator
    {
        public TrialMetrics Evaluate(TrialRequest request, CancellationToken cancel)
        {
            seen[request.Key] = LeasedTrialRunner.StoredInitialWeights(request)?["w"].ToArray();
            Safetensors.Save(Path.Combine(request.ArtifactDir, "model.safetensors"), [("x", Tensor.FromArray([(float)request.Key.Length], 1))]);
            return new TrialMetrics { ValidationAccuracy = request.Key == "a" ? 0.7 : 0.4 };
        }
    }

    [Fact]
    public void StageWiseRun_WithWorkers_TrainsTheBaselinesAndTheFinalNetworkTogether_AndReportsAsTheSequentialRun()
    {
        var options = new StageWiseOptions { Initial = new StageGenotype(StageModule.Basic, [2, 2, 2]), Growth = 2, Iterations = 1, Epochs = 1 };
        string seqDir = Path.Combine(_folder.Path, "seq");
        StageWiseReport sequential;
        using (var store = new SqliteTrialStore(Path.Combine(seqDir, "trials.db")))
            sequential = new StageWiseRun(options, new TrialRunner(store, new FakeEvaluator([], 0), seqDir), seqDir) { FinalEpochs = 2 }.Run([], 10);

        FakeEvaluator.Reset();
        string root = Path.Combine(_folder.Path, "runs"), db = Path.Combine(root, "sw", "trials.db");
        var log = new ConcurrentBag<string>();
        StageWiseReport parallel;
        using (var store = new SqliteTrialStore(db, "sw"))
        using (new WorkerThreads(2, db, "sw", root, new FakeEvaluator(log, 300)))
        {
            var runner = new LeasedTrialRunner(store, new FakeEvaluator(log, 0), root, Lease) { ShouldTrain = () => false };
            parallel = new StageWiseRun(options, runner) { FinalEpochs = 2 }.Run([], 10);
        }

        Assert.Equal(sequential.Rows.Select(r => (r.Name, r.Role, string.Join(",", r.Genotype.Depths), r.Metrics.ValidationAccuracy)),
            parallel.Rows.Select(r => (r.Name, r.Role, string.Join(",", r.Genotype.Depths), r.Metrics.ValidationAccuracy)));
        // initial [2,2,2], temporary [4,4,4], candidate [4,2,4]; baseline d2 is the initial network (a twin), d3 and the
        // final training of the candidate are independent and were trained at the same time.
        Assert.Equal(new[] { "final", "iter1/candidate", "iter1/temporary", "baseline/d3", "initial" }.Order(), log.Order());
        Assert.Equal(2, FakeEvaluator.MaxRunning);
    }
}
