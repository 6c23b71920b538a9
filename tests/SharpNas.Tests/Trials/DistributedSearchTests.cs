using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using SharpNas.Data;
using SharpNas.Search.Spaces;
using SharpNas.Search.Strategies.Discrete;
using SharpNas.Search.Strategies.RandomSearch;
using SharpNas.Search.Trials;
using SharpNas.Tests.Data;
using SharpNas.Tests.Training;

namespace SharpNas.Tests.Trials;

/// <summary>
/// Searches spread over processes: a NASNet random search on PostgreSQL with four <c>sharpnas worker</c> processes,
/// two of them and the coordinator killed mid-run; two processes sharing one SQLite store; and the one-line errors of
/// a worker given a bad store or search.
/// </summary>
public sealed class DistributedSearchTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(8);   // a loaded 2-core machine; normally far less
    private readonly TestFolder _folder = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _folder.Dispose();
    }

    /// <summary>A tiny npy dataset (8×8 images, 3 classes) whose path every process reads.</summary>
    private string TinyNpyData() => SharpNas.Tests.Cli.TinyNpy.Write(_folder.Path, train: 96, test: 24);

    private static void WaitFor(Func<bool> condition, string what)
    {
        DateTime until = DateTime.UtcNow + Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > until) throw new TimeoutException("timed out waiting for " + what);
            Thread.Sleep(50);
        }
    }

    [SkippableFact]
    public void NasNetSearch_OnPostgres_WithFourWorkersTwoKilledAndTheCoordinatorRestarted_CompletesEveryTrialOnce_AndPicksTheSingleProcessBest()
    {
        string url = TestPostgres.CreateDatabase();
        string data = TinyNpyData(), work = _folder.Path;
        string[] search = ["search", "nasnet", "--data", data, "--strategy", "random", "--budget", "8", "--children-per-update", "8",
            "--blocks", "2", "--child-f0", "4", "--child-epochs", "2", "--train-subset", "0", "--val-size", "0.25", "--batch", "16", "--seed", "3"];

        using (var single = new CliProcess(work, [.. search, "--out", "runs/single"]))
            Assert.True(single.Wait(Patience) == 0, single.Output);

        string[] distributed = [.. search, "--out", "runs/dist", "--store", url, "--lease-seconds", "4"];
        var coordinator = new CliProcess(work, distributed);
        using var store = new PostgresTrialStore(url, "dist");
        var workers = new List<CliProcess>();
        var killed = new List<(string Key, string Owner)>();
        try
        {
            WaitFor(() => store.FindSearch("dist") is not null, "the coordinator to register the search");
            for (int i = 0; i < 4; i++)
                workers.Add(new CliProcess(work, "worker", "--store", url, "--search", "dist", "--artifacts", "runs", "--name", $"w{i}", "--idle-exit", "300"));

            // kill -9 two workers while each trains a trial.
            foreach (CliProcess victim in workers.Take(2))
            {
                string tag = $":{victim.Pid}:";
                Trial? held = null;
                WaitFor(() => (held = store.All().FirstOrDefault(t => t.Status == TrialStatus.Running && t.LeaseOwner!.Contains(tag))) is not null,
                    $"worker {victim.Pid} to lease a trial");
                victim.Kill();
                Trial after = store.Find(held!.Key)!;
                if (after.Status != TrialStatus.Completed || after.LeaseOwner != held.LeaseOwner) killed.Add((held.Key, held.LeaseOwner!));
            }
            Assert.Equal(2, killed.Count);   // both died mid-trial

            // kill -9 the coordinator once a trial is done, then run the same command again.
            WaitFor(() => coordinator.HasExited || store.All().Any(t => t.Status == TrialStatus.Completed), "a completed trial");
            Assert.False(coordinator.HasExited, "the coordinator finished before it could be killed:\n" + coordinator.Output);
            coordinator.Kill();
            coordinator.Dispose();
            coordinator = new CliProcess(work, distributed);
            Assert.True(coordinator.Wait(Patience) == 0, coordinator.Output);
            foreach (CliProcess w in workers.Skip(2)) Assert.True(w.Wait(Patience) == 0, w.Output);   // they stop once the search is finished

            IReadOnlyList<Trial> trials = store.All();
            Assert.Equal(Enumerable.Range(0, 8).Select(DiscreteSearch.TrialKey), trials.Select(t => t.Key));   // none lost, none twice
            Assert.All(trials, t => Assert.Equal(TrialStatus.Completed, t.Status));
            Assert.All(trials, t => Assert.InRange(t.Attempts, 1, 3));
            foreach ((string key, string owner) in killed)
            {
                Trial t = trials.Single(x => x.Key == key);
                Assert.True(t.Attempts >= 2, $"{key}: {t.Attempts} attempt(s) although its worker was killed");
                Assert.NotEqual(owner, t.LeaseOwner);
            }
            // Each completion written once: a surviving worker reports exactly the trials the store credits it with.
            foreach (CliProcess w in workers.Skip(2))
            {
                string tag = $":{w.Pid}:";
                var credited = trials.Where(t => t.LeaseOwner!.Contains(tag)).Select(t => t.Key).OrderBy(k => k).ToList();
                var reported = w.Output.Split('\n').Where(l => l.Contains(": completed")).Select(l => l.Split(' ')[1].TrimEnd(':')).OrderBy(k => k).ToList();
                Assert.Equal(credited, reported);
            }

            JsonObject Results(string run) => JsonNode.Parse(File.ReadAllText(Path.Combine(work, "runs", run, "results.json")))!.AsObject();
            JsonObject one = Results("single"), many = Results("dist");
            Assert.Equal(one["best"]!["key"]!.GetValue<string>(), many["best"]!["key"]!.GetValue<string>());
            Assert.Equal(one["best"]!["genotype"]!.ToJsonString(), many["best"]!["genotype"]!.ToJsonString());
            string Rewards(JsonObject r) => string.Join(" ", r["samples"]!.AsArray().Select(s => $"{s!["key"]}={s["valid_accuracy"]}").Order());
            Assert.Equal(Rewards(one), Rewards(many));   // every child trained to the same accuracy, killed or not
        }
        finally
        {
            coordinator.Dispose();
            foreach (CliProcess w in workers) w.Dispose();
        }
    }

    [Fact]
    public void TwoWorkerProcessesAndTheCoordinator_ShareOneSqliteStore_LosingNothing()
    {
        string runDir = Path.Combine(_folder.Path, "runs", "smoke"), db = Path.Combine(runDir, "trials.db");
        DiscreteSpace space = SmokeEvaluator.Space(4, 3);
        var lease = new LeaseOptions { Lease = TimeSpan.FromSeconds(30), Poll = TimeSpan.FromMilliseconds(20) };
        DiscreteSearchResult result;
        var workers = new List<CliProcess>();
        try
        {
            using (var store = new SqliteTrialStore(db, "smoke"))
            {
                store.SaveSearch(SmokeEvaluator.Kind, new JsonObject { ["decisions"] = 4, ["choices"] = 3, ["seconds"] = 0.02, ["lease"] = lease.ToJson() });
                for (int i = 0; i < 2; i++) workers.Add(new CliProcess(_folder.Path, "worker", "--store", db, "--search", "smoke", "--name", $"w{i}", "--idle-exit", "300"));
                var search = new DiscreteSearch(new RandomSearchStrategy(space, 5), new SmokeEvaluator(space, 0.02), store) { ChildrenPerUpdate = 12, Lease = lease };
                result = search.Run(new DiscreteBudget(MaxQueries: 60));
                store.SaveSearch(SmokeEvaluator.Kind, store.FindSearch("smoke")!.Settings, SearchRecord.Finished);
            }
            foreach (CliProcess w in workers) Assert.True(w.Wait(Patience) == 0, w.Output);

            using var reopened = new SqliteTrialStore(db, "smoke");
            IReadOnlyList<Trial> trials = reopened.All();
            Assert.Equal(Enumerable.Range(0, 60).Select(DiscreteSearch.TrialKey), trials.Select(t => t.Key));
            Assert.All(trials, t => Assert.Equal((TrialStatus.Completed, 1), (t.Status, t.Attempts)));
            int byWorkers = workers.Sum(w => w.Output.Split('\n').Count(l => l.Contains(": completed")));
            Assert.Equal(60, byWorkers + result.EvaluatedNow);   // every trial completed by exactly one process
            Assert.Equal(60, trials.Select(t => t.LeaseOwner).Count(o => o is not null));
            // The same search in one process without a store sees the same rewards.
            DiscreteSearchResult alone = new DiscreteSearch(new RandomSearchStrategy(space, 5), new SmokeEvaluator(space, 0)).Run(new DiscreteBudget(MaxQueries: 60));
            Assert.Equal(alone.History.Select(o => o.Reward), result.History.Select(o => o.Reward));
        }
        finally
        {
            foreach (CliProcess w in workers) w.Dispose();
        }
    }

    private static (int Code, string[] Errors) RunCli(string dir, params string[] args)
    {
        using var p = new CliProcess(dir, args);
        int code = p.Wait(Patience);
        return (code, p.Output.Split('\n').Where(l => l.StartsWith("! ", StringComparison.Ordinal)).ToArray());
    }

    [Fact]
    public void Worker_OnAnUnreachableStore_IsOneLineNamingHostPortAndTheError_ExitCode2()
    {
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }
        (int code, string[] errors) = RunCli(_folder.Path, "worker", "--store", $"postgres://nas:pw@127.0.0.1:{port}/nas");
        Assert.Equal(2, code);
        string line = Assert.Single(errors);
        Assert.Contains($"127.0.0.1:{port}", line);
        Assert.Contains("cannot connect", line);
    }

    [Fact]
    public void Worker_OnAMissingSearch_IsOneLineError_ExitCode2_AndAnOlderStoreIsMigrated()
    {
        string db = Path.Combine(_folder.Path, "runs", "old", "trials.db");
        Directory.CreateDirectory(Path.GetDirectoryName(db)!);
        using (var c = new SqliteConnection($"Data Source={db};Pooling=False"))
        {
            c.Open();
            using SqliteCommand cmd = c.CreateCommand();
            cmd.CommandText = """
                CREATE TABLE trials (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, role TEXT NOT NULL, genotype TEXT NOT NULL,
                    config TEXT NOT NULL, status TEXT NOT NULL, metrics TEXT, artifact_dir TEXT, attempts INTEGER NOT NULL DEFAULT 0, error TEXT,
                    created_utc TEXT NOT NULL, updated_utc TEXT NOT NULL);
                PRAGMA user_version = 1;
                """;
            cmd.ExecuteNonQuery();
        }
        (int code, string[] errors) = RunCli(_folder.Path, "worker", "--store", db, "--search", "nosuch");
        Assert.Equal(2, code);
        string line = Assert.Single(errors);
        Assert.Contains("no search nosuch", line);
        Assert.Equal(SqliteTrialStore.SchemaVersion, SqliteTrialStore.ReadSchemaVersion(db));
        Assert.Equal(2, RunCli(_folder.Path, "worker").Code);   // no store at all
    }

    [SkippableFact]
    public void Worker_OnAMissingSearchInPostgres_IsOneLineError_ExitCode2()
    {
        string url = TestPostgres.CreateDatabase();
        (int code, string[] errors) = RunCli(_folder.Path, "worker", "--store", url, "--search", "nosuch");
        Assert.Equal(2, code);
        Assert.Contains("no search nosuch", Assert.Single(errors));
    }

    [Fact]
    public void Status_ShowsSearchesTrialCountsAndWorkers()
    {
        string db = Path.Combine(_folder.Path, "runs", "st", "trials.db");
        using (var store = new SqliteTrialStore(db, "st"))
        {
            store.SaveSearch(SmokeEvaluator.Kind, []);
            for (int i = 0; i < 3; i++) store.GetOrAdd($"t{i}", "sample", new JsonObject { ["key"] = i }, []);
            Trial t = store.Lease("hostx:1:w9", new LeaseOptions())!;
            store.CompleteLease(t.Key, "hostx:1:w9", new JsonObject { ["reward"] = 1 });
            store.Lease("hostx:1:w9", new LeaseOptions());
        }
        using var p = new CliProcess(_folder.Path, "status", "--store", db);
        Assert.Equal(0, p.Wait(Patience));
        string text = p.Output;
        Assert.Contains("st", text);
        Assert.Contains("smoke", text);
        Assert.Contains("hostx:1:w9", text);
        Assert.Contains("t1", text);   // the trial w9 runs
    }

    [Fact]
    public void Search_RerunWithOtherSettingsOnTheSameStore_IsAOneLineError_ExitCode2()
    {
        string data = TinyNpyData(), dir = Path.Combine(_folder.Path, "runs", "nn");
        string[] args = ["search", "nasnet", "--data", data, "--strategy", "random", "--budget", "1", "--blocks", "2", "--child-f0", "4",
            "--train-subset", "0", "--val-size", "0.25", "--batch", "16", "--out", dir];
        Assert.Equal(0, SharpNas.Cli.Program.Main(args));
        Assert.Equal(0, SharpNas.Cli.Program.Main([.. args, "--lease-seconds", "5"]));   // lease settings may change
        (int code, string[] errors) = RunCli(_folder.Path, [.. args, "--child-epochs", "2"]);
        Assert.Equal(2, code);
        Assert.Contains("search nn was started as nasnet with other settings", Assert.Single(errors));
    }
}
