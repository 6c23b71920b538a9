using System.Text.Json.Nodes;
using SharpNas.Data;
using SharpNas.Search.Evaluators;
using SharpNas.Search.Pruning;
using SharpNas.Search.Spaces;
using SharpNas.Search.Spaces.StageWise;
using SharpNas.Search.Strategies.Discrete;
using SharpNas.Search.Strategies.RandomSearch;
using SharpNas.Search.Trials;
using SharpNas.Tests.Training;
using SharpNas.Training;
using SharpNas.Training.Checkpoints;

namespace SharpNas.Tests.Search.Pruning;

/// <summary>Pruning through the whole stack: the trainer's hook, the evaluator, the trial store and runner, a discrete search.</summary>
public sealed class PruningSearchTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "sharpnas-prune-" + Guid.NewGuid().ToString("N"));

    public PruningSearchTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    private static TrainingData Data() => new(TinyData.Make(48), TinyData.Make(12, seed: 2), TinyData.Make(12, seed: 3));

    private static TrainerOptions Options(int epochs = 3) => new()
    {
        Epochs = epochs, BatchSize = 16, LearningRate = 0.05, Seed = 7, Augmentation = AugmentationOptions.Grayscale, EvaluateTestEveryEpoch = false,
    };

    private static StageGenotype Net(int width) => new(StageModule.Basic, [1, 1], Width: width);

    /// <summary>Stops a trial after its first epoch as soon as one trial of its kind has completed.</summary>
    private sealed class StopAfterFirstCompleted : IPruner
    {
        public string Name => "scripted";

        public PruneDecision Decide(IReadOnlyList<double> curve, int totalEpochs, IReadOnlyList<LearningCurve> finished) =>
            curve.Count == 1 && finished.Any(c => c.Completed) ? PruneDecision.Stop("scripted stop") : PruneDecision.Continue("scripted");
    }

    /// <summary>Fails the test if it is asked to evaluate anything.</summary>
    private sealed class NoEvaluation : IEvaluator
    {
        public TrialMetrics Evaluate(TrialRequest request, CancellationToken cancel) => throw new InvalidOperationException($"{request.Key} evaluated again");
    }

    [Fact]
    public void Trainer_StopAfterEpoch_EndsTheRunAfterThatEpoch_WithoutATestEvaluation()
    {
        TrainingData data = Data();
        var asked = new List<int>();
        TrainingResult r = new Trainer(Net(4).Build(data.Input), data, Options(4) with
        {
            StopAfterEpoch = h => { asked.Add(h.Count); return h.Count == 2; },
        }).Run();
        Assert.Equal([1, 2], asked);
        Assert.Equal(2, r.History.Count);
        Assert.Equal(r.History[1].ValidationAccuracy, r.Validation!.Accuracy);
        Assert.Null(r.Test);
    }

    [Fact]
    public void Trainer_IsNeverAskedAfterTheLastEpoch()
    {
        TrainingData data = Data();
        var asked = new List<int>();
        TrainingResult r = new Trainer(Net(4).Build(data.Input), data, Options(3) with { StopAfterEpoch = h => { asked.Add(h.Count); return false; } }).Run();
        Assert.Equal([1, 2], asked);
        Assert.Equal(3, r.History.Count);
        Assert.NotNull(r.Test);
    }

    [Fact]
    public void Trainer_ResumedBetweenEpochs_AsksTheHookAgainBeforeTrainingOn()
    {
        TrainingData data = Data();
        string cp = Path.Combine(_dir, Checkpoint.FileName);
        new Trainer(Net(4).Build(data.Input), data, Options(4) with { StopAfterEpoch = h => h.Count == 2 }, cp, "fp").Run();
        Assert.True(File.Exists(cp));   // a stopped run leaves its checkpoint (TrainingRun removes it with the metrics written)

        var asked = new List<int>();
        TrainingResult again = new Trainer(Net(4).Build(data.Input), data, Options(4) with { StopAfterEpoch = h => { asked.Add(h.Count); return true; } }, cp, "fp").Run();
        Assert.True(again.Resumed);
        Assert.Equal([2], asked);
        Assert.Equal(2, again.History.Count);

        TrainingResult goesOn = new Trainer(Net(4).Build(data.Input), data, Options(4) with { StopAfterEpoch = _ => false }, cp, "fp").Run();
        Assert.Equal(4, goesOn.History.Count);
    }

    [Fact]
    public void Curves_AreTheCompletedAndPrunedTrialsOfTheSameRoleAndEpochs()
    {
        using var store = new SqliteTrialStore(Path.Combine(_dir, "trials.db"));
        void Add(string key, string role, int epochs, double[]? curve, TrialStatus status)
        {
            store.GetOrAdd(key, role, new JsonObject { ["kind"] = "x", ["k"] = key }, []);
            if (status == TrialStatus.Queued) return;
            store.Start(key, key);
            var m = new TrialMetrics { Epochs = epochs, ValidCurve = curve, EpochsReached = curve?.Length }.ToJson();
            if (status == TrialStatus.Completed) store.Complete(key, m);
            else if (status == TrialStatus.Pruned) store.Prune(key, m);
        }
        Add("done", "child", 3, [0.1, 0.2, 0.3], TrialStatus.Completed);
        Add("cut", "child", 3, [0.4], TrialStatus.Pruned);
        Add("running", "child", 3, null, TrialStatus.Running);
        Add("queued", "child", 3, null, TrialStatus.Queued);
        Add("other-role", "baseline", 3, [0.5, 0.5, 0.5], TrialStatus.Completed);
        Add("other-epochs", "child", 5, [0.6, 0.6, 0.6, 0.6, 0.6], TrialStatus.Completed);
        Add("no-curve", "child", 3, null, TrialStatus.Completed);

        IReadOnlyList<LearningCurve> curves = TrialPruning.Curves(store, "child", 3);
        Assert.Equal(["done", "cut"], curves.Select(c => c.Key));
        Assert.Equal([0.1, 0.2, 0.3], curves[0].ValidAccuracy);
        Assert.True(curves[0].Completed);
        Assert.False(curves[1].Completed);
        Assert.Equal(TrialStatus.Pruned, store.Find("cut")!.Status);
    }

    [Fact]
    public void TrialRunner_RecordsAPrunedTrialWithItsEpoch_AndRecallsItWithoutTraining()
    {
        TrainingData data = Data();
        using (var store = new SqliteTrialStore(Path.Combine(_dir, "trials.db")))
        {
            var pruning = new TrialPruning(new StopAfterFirstCompleted(), store);
            var stops = new List<(string, int)>();
            pruning.Pruned += (r, e, _) => stops.Add((r.Key, e));
            var runner = new TrialRunner(store, new TrainingEvaluator(data, "tiny", Options(3), new CostSettings { LatencyRuns = 0 }, null, pruning), _dir);

            TrialMetrics first = runner.Run("a", "child", Net(4), 3);
            TrialMetrics second = runner.Run("b", "child", Net(6), 3);

            Assert.False(first.Pruned);
            Assert.Equal(3, first.EpochsReached);
            Assert.Equal(3, first.ValidCurve!.Count);
            Assert.True(second.Pruned);
            Assert.Equal(1, second.EpochsReached);
            Assert.Equal(second.ValidCurve![0], second.ValidationAccuracy);
            Assert.Equal("scripted stop", second.PruneReason);
            Assert.Equal([("b", 1)], stops);
            Assert.Equal(2, runner.Evaluated);

            Trial b = store.Find("b")!;
            Assert.Equal(TrialStatus.Pruned, b.Status);
            Assert.Equal(1, b.Metrics!["epochs_reached"]!.GetValue<int>());
            Assert.Equal(TrialStatus.Completed, store.Find("a")!.Status);
            Assert.False(File.Exists(Path.Combine(_dir, "trials", "b", TrainingEvaluator.TestProbabilitiesFile)));
            Assert.True(File.Exists(Path.Combine(_dir, "trials", "a", TrainingEvaluator.TestProbabilitiesFile)));
        }
        using (var store = new SqliteTrialStore(Path.Combine(_dir, "trials.db")))
        {
            var recalled = new List<bool>();
            var runner = new TrialRunner(store, new NoEvaluation(), _dir);
            runner.Finished += (_, _, fromStore) => recalled.Add(fromStore);
            TrialMetrics b = runner.Run("b", "child", Net(6), 3);
            Assert.True(b.Pruned);
            Assert.Equal(1, b.EpochsReached);
            Assert.Equal([true], recalled);
        }
    }

    /// <summary>Stops every trial after its first epoch.</summary>
    private sealed class AlwaysStop : IPruner
    {
        public string Name => "always";

        public PruneDecision Decide(IReadOnlyList<double> curve, int totalEpochs, IReadOnlyList<LearningCurve> finished) => PruneDecision.Stop("always");
    }

    [Fact]
    public void TrialKilledAfterItsPruningDecision_IsPrunedAgainFromItsFolder()
    {
        // The trainer stopped and the folder was written, then the process died before the store recorded the trial:
        // the rerun (here even without a pruner) finds the short run in the folder and records the trial as pruned.
        TrainingData data = Data();
        using var store = new SqliteTrialStore(Path.Combine(_dir, "trials.db"));
        var stopping = new TrainingEvaluator(data, "tiny", Options(3), new CostSettings { LatencyRuns = 0 }, null, new TrialPruning(new AlwaysStop(), store));
        var e = Assert.Throws<TrialPrunedException>(() => stopping.Evaluate(new TrialRequest("b", "child", Net(6), Path.Combine(_dir, "trials", "b"), 3), default));
        Assert.Equal(1, e.EpochReached);

        var runner = new TrialRunner(store, new TrainingEvaluator(data, "tiny", Options(3), new CostSettings { LatencyRuns = 0 }, null), _dir);
        TrialMetrics m = runner.Run("b", "child", Net(6), 3);
        Assert.True(m.Pruned);
        Assert.Equal(1, m.EpochsReached);
        Assert.Contains("before a restart", m.PruneReason);
        Assert.Equal(TrialStatus.Pruned, store.Find("b")!.Status);
    }

    [Fact]
    public void DiscreteSearch_WithPruning_SpendsItsBudget_StoresPrunedSamples_AndResumesWithoutTraining()
    {
        TrainingData data = Data();
        var space = DiscreteSpace.Uniform(3, 4);
        IArchitecture Build(int[] s) => Net(4 + 2 * s[0]);   // even widths (zero-padded shortcuts)
        DiscreteSearchResult result;
        using (var store = new SqliteTrialStore(Path.Combine(_dir, "trials.db")))
        {
            var evaluator = new TrainingEvaluator(data, "tiny", Options(3), new CostSettings { LatencyRuns = 0 }, null, new TrialPruning(new StopAfterFirstCompleted(), store));
            var children = new TrainedChildEvaluator(space, Build, evaluator, _dir, 3);
            result = new DiscreteSearch(new RandomSearchStrategy(space, 5), children, store).Run(new DiscreteBudget(MaxQueries: 3));

            Assert.Equal(3, result.History.Count);
            Assert.Equal(3, result.History.Select(o => space.Key(o.Sample)).Distinct().Count());   // no repeated child (else it would be recalled)
            Trial[] trials = store.All().ToArray();
            Assert.Equal([TrialStatus.Completed, TrialStatus.Pruned, TrialStatus.Pruned], trials.Select(t => t.Status));
            Assert.Equal([3, 1, 1], trials.Select(t => t.Metrics!["epochs_reached"]!.GetValue<int>()));
            for (int i = 0; i < 3; i++)
            {
                // The strategy saw each child's accuracy after the epochs it trained: the last point of its curve.
                JsonArray curve = trials[i].Metrics!["valid_curve"]!.AsArray();
                Assert.Equal(curve[^1]!.GetValue<double>(), result.History[i].Reward);
                Assert.Equal(result.History[i].Reward, trials[i].Metrics!["reward"]!.GetValue<double>());
            }
        }
        using (var store = new SqliteTrialStore(Path.Combine(_dir, "trials.db")))
        {
            var children = new TrainedChildEvaluator(space, Build, new NoEvaluation(), _dir, 3);
            DiscreteSearchResult again = new DiscreteSearch(new RandomSearchStrategy(space, 5), children, store).Run(new DiscreteBudget(MaxQueries: 3));
            Assert.Equal(0, again.EvaluatedNow);
            Assert.Equal(result.History.Select(o => (space.Key(o.Sample), o.Reward)), again.History.Select(o => (space.Key(o.Sample), o.Reward)));
        }
    }
}
