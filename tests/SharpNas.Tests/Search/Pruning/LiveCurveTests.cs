using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Npgsql;
using SharpNas.Engine;
using SharpNas.Search.Evaluators;
using SharpNas.Search.Pruning;
using SharpNas.Search.Spaces;
using SharpNas.Search.Spaces.NasNet;
using SharpNas.Search.Spaces.StageWise;
using SharpNas.Search.Strategies.Discrete;
using SharpNas.Search.Strategies.Epnas;
using SharpNas.Search.Trials;
using SharpNas.Tests.Trials;

namespace SharpNas.Tests.Search.Pruning;

/// <summary>Intermediate values in the store (schema 3) and pruning against the curves of every trial of the search,
/// running ones included, on scripted curves through real stores; a worker process prunes as the search row says.</summary>
public sealed class LiveCurveTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "sharpnas-live-" + Guid.NewGuid().ToString("N"));

    public LiveCurveTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    public static TheoryData<string> Backends => new() { "sqlite", "postgres" };

    private string? _postgresUrl;

    private ITrialStore Open(string backend) => backend == "sqlite"
        ? new SqliteTrialStore(Path.Combine(_dir, "trials.db"), "s1")
        : new PostgresTrialStore(_postgresUrl ??= TestPostgres.CreateDatabase(), "s1");

    private static readonly LeaseOptions Lease = new();

    /// <summary>Adds a sample trial planned for <paramref name="epochs"/> epochs and leases it (status running).</summary>
    private static void Running(ITrialStore store, string key, int epochs, params double[] reported)
    {
        store.GetOrAdd(key, "sample", new JsonObject { ["kind"] = "discrete", ["key"] = key }, new JsonObject { ["epochs"] = epochs });
        Trial leased = store.Lease("w-" + key, Lease)!;
        Assert.Equal(key, leased.Key);
        if (reported.Length > 0) store.ReportEpochs(key, reported);
    }

    private static void Complete(ITrialStore store, string key, params double[] curve) =>
        Assert.NotNull(store.CompleteLease(key, "w-" + key, new TrialMetrics { Epochs = curve.Length, ValidCurve = curve, EpochsReached = curve.Length }.ToJson()));

    private static TrialRequest Request(string key, int epochs) =>
        new("choices-of-" + key, "sample", new StageGenotype(StageModule.Basic, [1]), "unused", epochs) { StoreKey = key };

    [SkippableTheory]
    [MemberData(nameof(Backends))]
    public void Store_KeepsEachTrialsIntermediateValues_ReplacingReportedEpochs_AndIgnoresUnknownTrials(string backend)
    {
        using ITrialStore store = Open(backend);
        store.GetOrAdd("a", "sample", new JsonObject { ["k"] = "a" }, []);
        store.GetOrAdd("b", "sample", new JsonObject { ["k"] = "b" }, []);
        store.ReportEpochs("a", [0.1]);
        store.ReportEpochs("a", [0.15, 0.25]);   // a resumed trial reports its epochs again
        store.ReportEpochs("nosuch", [0.9]);
        IReadOnlyDictionary<string, IReadOnlyList<double>> values = store.EpochValues();
        Assert.Equal(["a"], values.Keys);
        Assert.Equal([0.15, 0.25], values["a"]);
        using ITrialStore other = backend == "postgres" ? store.ForSearch("s2") : Open(backend);
        if (backend == "postgres") Assert.Empty(other.EpochValues());   // another search of the database sees none of them
    }

    [SkippableTheory]
    [MemberData(nameof(Backends))]
    public void Asha_JudgesATrialAgainstTrialsStillRunning_AtTheRungTheyReached(string backend)
    {
        using ITrialStore store = Open(backend);
        Running(store, "r1", 9, 0.5);
        Running(store, "r2", 9, 0.6, 0.62);
        Running(store, "r3", 9, 0.7);
        Running(store, "other-epochs", 5, 0.99);   // another kind: not compared
        Running(store, "x", 9);
        var pruning = new TrialPruning(new AshaPruner(new AshaOptions { ReductionFactor = 3 }), store);
        var stopped = new List<int>();
        pruning.Pruned += (_, e, _) => stopped.Add(e);

        // Rung 0 (epoch 1): {.7 .6 .5 .3}, the best max(1, ⌊4/3⌋) = 1 goes on: x stops, though no trial has finished.
        PruneDecision d = pruning.Decide(Request("x", 9), [0.3]);
        Assert.True(d.Prune, d.Reason);
        Assert.Contains("of 4 go on", d.Reason);
        Assert.Equal([1], stopped);
        Assert.Equal([0.3], store.EpochValues()["x"]);   // x reported its own value before the decision

        IReadOnlyList<LearningCurve> curves = TrialPruning.Curves(store, "sample", 9, except: "x");
        Assert.Equal(["r1", "r2", "r3"], curves.Select(c => c.Key));
        Assert.All(curves, c => Assert.Equal(TrialStatus.Running, c.Status));
        Assert.Equal([0.6, 0.62], curves[1].ValidAccuracy);

        // The same trial against finished trials only (the pruning of before): the first to reach a rung goes on.
        Assert.False(new AshaPruner(new AshaOptions { ReductionFactor = 3 }).Decide([0.3], 9, curves.Where(c => c.Status != TrialStatus.Running).ToList()).Prune);
    }

    [SkippableTheory]
    [MemberData(nameof(Backends))]
    public void Median_ComparesWithCompletedTrialsOnly_WhileRunningOnesReport(string backend)
    {
        using ITrialStore store = Open(backend);
        for (int i = 0; i < 3; i++) Running(store, $"r{i}", 4, 0.8, 0.8);
        Running(store, "x", 4);
        var pruning = new TrialPruning(new MedianPruner(new MedianPrunerOptions { WarmupEpochs = 1, MinCompletedTrials = 3 }), store);

        PruneDecision early = pruning.Decide(Request("x", 4), [0.1, 0.1]);
        Assert.False(early.Prune, early.Reason);
        Assert.Contains("0 completed trials reached epoch 2", early.Reason);

        for (int i = 0; i < 3; i++) Complete(store, $"r{i}", 0.8, 0.8, 0.9, 0.9);
        PruneDecision late = pruning.Decide(Request("x", 4), [0.1, 0.1]);
        Assert.True(late.Prune, late.Reason);
        Assert.Contains("median of 3 completed trials 80.00 %", late.Reason);
        // Completed trials are read from their stored curve: all four epochs, though they reported two.
        Assert.All(TrialPruning.Curves(store, "sample", 4, except: "x"), c => Assert.Equal((TrialStatus.Completed, 4), (c.Status, c.Epochs)));
    }

    [Fact]
    public void ReportingOnly_WithoutAPruner_RecordsTheEpochsAndNeverStops()
    {
        using ITrialStore store = Open("sqlite");
        Running(store, "x", 3);
        var pruning = new TrialPruning(null, store);
        Assert.False(pruning.Decide(Request("x", 3), [0.2]).Prune);
        Assert.False(pruning.Decide(Request("x", 3), [0.2, 0.4]).Prune);
        Assert.Equal([0.2, 0.4], store.EpochValues()["x"]);
        Assert.Null(pruning.Pruner);
    }

    [Fact]
    public void FollowingSearch_UsesThePrunerTheSearchRowNamesNow()
    {
        using ITrialStore store = Open("sqlite");
        var pruning = TrialPruning.FollowingSearch(store);
        Assert.Null(pruning.Pruner);   // no search row yet
        store.SaveSearch("nasnet", new JsonObject { ["prune"] = Pruners.ToJson(new AshaPruner(new AshaOptions { ReductionFactor = 4, MaxRungs = 2 })) });
        var asha = Assert.IsType<AshaPruner>(pruning.Pruner);
        Assert.Equal((4, 2, 1), (asha.Options.ReductionFactor, asha.Options.MaxRungs, asha.Options.MinEpochs));
        store.SaveSearch("nasnet", new JsonObject { ["prune"] = Pruners.ToJson(new MedianPruner(new MedianPrunerOptions { WarmupEpochs = 0, MinCompletedTrials = 5 })) });
        var median = Assert.IsType<MedianPruner>(pruning.Pruner);
        Assert.Equal((0, 5), (median.Options.WarmupEpochs, median.Options.MinCompletedTrials));
        store.SaveSearch("nasnet", new JsonObject { ["prune"] = null });
        Assert.Null(pruning.Pruner);
        Assert.Throws<InvalidDataException>(() => Pruners.FromJson(new JsonObject { ["name"] = "hyperband" }));
    }

    [Fact]
    public void SqliteStoreOfSchema2_IsMigratedTo3_WithTheCurvesOfItsFinishedTrials()
    {
        string path = Path.Combine(_dir, "trials.db");
        using (var store = new SqliteTrialStore(path, "s1"))
        {
            Running(store, "done", 3);
            Complete(store, "done", 0.25, 0.5, 0.75);
            Running(store, "running", 3);
            Running(store, "no-curve", 3);
            store.CompleteLease("no-curve", "w-no-curve", new JsonObject { ["reward"] = 1, ["valid_curve"] = null });
        }
        using (var db = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            db.Open();
            using SqliteCommand cmd = db.CreateCommand();
            cmd.CommandText = "DROP TABLE trial_epochs; PRAGMA user_version = 2;";   // what SharpNas wrote before schema 3
            cmd.ExecuteNonQuery();
        }
        Assert.Equal(2, SqliteTrialStore.ReadSchemaVersion(path));
        using (var store = new SqliteTrialStore(path, "s1"))
        {
            Assert.Equal(["done"], store.EpochValues().Keys);
            Assert.Equal([0.25, 0.5, 0.75], store.EpochValues()["done"]);
            Assert.Equal(3, store.All().Count);
        }
        Assert.Equal(3, SqliteTrialStore.ReadSchemaVersion(path));
    }

    [SkippableFact]
    public void PostgresStoreOfSchema1_IsMigratedTo3_WithTheCurvesOfItsFinishedTrials()
    {
        string url = TestPostgres.CreateDatabase();
        using (var store = new PostgresTrialStore(url, "s1"))
        {
            Running(store, "done", 3);
            Complete(store, "done", 0.25, 0.5, 0.75);
            Running(store, "no-curve", 3);
            store.CompleteLease("no-curve", "w-no-curve", new JsonObject { ["reward"] = 1 });
            Assert.Equal(PostgresTrialStore.SchemaVersion, store.ReadSchemaVersion());
        }
        using (var c = new NpgsqlConnection(PostgresTrialStore.ParseUrl(url).ConnectionString))
        {
            c.Open();
            using var cmd = new NpgsqlCommand("DROP TABLE trial_epochs; UPDATE sharpnas_schema SET version = 1;", c);   // the schema before
            cmd.ExecuteNonQuery();
        }
        using (var store = new PostgresTrialStore(url, "s1"))
        {
            Assert.Equal(3, store.ReadSchemaVersion());
            Assert.Equal(["done"], store.EpochValues().Keys);
            Assert.Equal([0.25, 0.5, 0.75], store.EpochValues()["done"]);
        }
    }

    [Fact]
    public void WorkerProcess_PrunesAsTheSearchRowSays_AndCompletesTheTrialAsPrunedWithTheEpochReached()
    {
        string data = SharpNas.Tests.Cli.TinyNpy.Write(_dir, train: 64, test: 16);
        string db = Path.Combine(_dir, "runs", "pr", "trials.db");
        var settings = new NasNetChildSettings { Data = data, ValSize = "0.25", Batch = 16, Blocks = 2, Filters = 4, Epochs = 3, Seed = 1 };
        NasNetDecisionSpace space = settings.Space();
        int[] sample = space.SampleUniform(new SeededRandom(4));
        using (var store = new SqliteTrialStore(db, "pr"))
        {
            JsonObject row = settings.ToJson();
            row["prune"] = Pruners.ToJson(new MedianPruner(new MedianPrunerOptions { WarmupEpochs = 0, MinCompletedTrials = 2 }));
            store.SaveSearch(NasNetChildSettings.Kind, row);
            for (int i = 0; i < 2; i++)   // two children that finished at 100 % after every epoch
            {
                string key = DiscreteSearch.TrialKey(i);
                store.GetOrAdd(key, DiscreteSearch.Role, new JsonObject { ["kind"] = "discrete", ["key"] = $"done{i}" }, settings.ToJson());
                store.Lease("w", Lease);
                store.CompleteLease(key, "w", new TrialMetrics { Epochs = 3, ValidCurve = [1.0, 1.0, 1.0], EpochsReached = 3 }.ToJson());
            }
            store.GetOrAdd(DiscreteSearch.TrialKey(2), DiscreteSearch.Role, new JsonObject
            {
                ["kind"] = "discrete", ["key"] = space.Key(sample), ["choices"] = new JsonArray(sample.Select(c => (JsonNode?)c).ToArray()),
            }, settings.ToJson(), NasNetChildSettings.ArtifactDir("pr", space, sample));
        }
        string[] args = ["worker", "--store", db, "--search", "pr", "--artifacts", Path.Combine(_dir, "runs"), "--idle-exit", "1"];
        using var worker = new CliProcess(_dir, args);
        Assert.True(worker.Wait(TimeSpan.FromMinutes(5)) == 0, worker.Output);

        using var reopened = new SqliteTrialStore(db, "pr");
        Trial t = reopened.Find(DiscreteSearch.TrialKey(2))!;
        Assert.True(t.Status == TrialStatus.Pruned, worker.Output);
        Assert.Equal(1, t.Metrics!["epochs_reached"]!.GetValue<int>());
        Assert.Contains("median of 2 completed trials", t.Metrics!["prune_reason"]!.GetValue<string>());
        Assert.Single(reopened.EpochValues()[t.Key]);   // its one epoch, reported while it trained
        Assert.Contains("pruned after epoch 1", worker.Output);
    }

    [Fact]
    public void WorkerProcess_PrunesEpnasChildrenAsTheSearchRowSays()
    {
        string data = SharpNas.Tests.Cli.TinyNpy.Write(_dir, train: 64, test: 16);
        string db = Path.Combine(_dir, "runs", "ep", "trials.db");
        var settings = new EpnasChildSettings { Data = data, ValSize = "0.25", Batch = 16, Epochs = 3, Seed = 1 };
        JsonObject child = EpnasSeeds.MinimalLayerNetwork().ToJson();
        var config = new JsonObject { ["epochs"] = 3 };
        using (var store = new SqliteTrialStore(db, "ep"))
        {
            JsonObject row = settings.ToJson();
            row["prune"] = Pruners.ToJson(new MedianPruner(new MedianPrunerOptions { WarmupEpochs = 0, MinCompletedTrials = 2 }));
            store.SaveSearch(EpnasChildSettings.Kind, row);
            for (int i = 0; i < 2; i++)   // two children that finished at 100 % after every epoch
            {
                store.GetOrAdd($"done{i}", "child", new JsonObject { ["kind"] = "done", ["i"] = i }, config.DeepClone().AsObject());
                store.Lease("w", Lease);
                store.CompleteLease($"done{i}", "w", new TrialMetrics { Epochs = 3, ValidCurve = [1.0, 1.0, 1.0], EpochsReached = 3 }.ToJson());
            }
            store.GetOrAdd("ep0/step0/branch0", "child", child, config.DeepClone().AsObject(), Path.Combine("ep", "trials", "ep0-step0-branch0"));
        }
        string[] args = ["worker", "--store", db, "--search", "ep", "--artifacts", Path.Combine(_dir, "runs"), "--idle-exit", "1"];
        using var worker = new CliProcess(_dir, args);
        Assert.True(worker.Wait(TimeSpan.FromMinutes(5)) == 0, worker.Output);

        using var reopened = new SqliteTrialStore(db, "ep");
        Trial t = reopened.Find("ep0/step0/branch0")!;
        Assert.True(t.Status == TrialStatus.Pruned, worker.Output);
        Assert.Equal(1, t.Metrics!["epochs_reached"]!.GetValue<int>());
        Assert.Contains("pruned after epoch 1", worker.Output);
    }
}
