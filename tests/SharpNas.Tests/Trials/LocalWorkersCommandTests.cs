using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using SharpNas.Search.Trials;
using SharpNas.Tests.Data;

namespace SharpNas.Tests.Trials;

/// <summary>
/// <c>--workers N</c> end to end: the search command (run as a user runs it, <c>dotnet sharpnas.dll</c>) starts N
/// <c>sharpnas worker</c> processes of itself on the run's SQLite store, they train the children, and they are gone
/// when it ends; and a worker pointed at a search that trains its trials itself is told so.
/// </summary>
public sealed class LocalWorkersCommandTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(5);   // a loaded 2-core machine; normally ~20 s
    private readonly TestFolder _folder = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _folder.Dispose();
    }

    private static bool Running(int pid)
    {
        try
        {
            using Process p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException) { return false; }
    }

    [Fact]
    public void SearchEpnas_WithTwoWorkers_TrainsEveryChildInTheWorkers_AndStopsThem()
    {
        string data = SharpNas.Tests.Cli.TinyNpy.Write(_folder.Path, train: 60, test: 20);
        string dir = Path.Combine(_folder.Path, "runs", "ep");
        string[] args = ["search", "epnas", "--data", data, "--episodes", "1", "--steps", "2", "--branches", "2", "--top-k", "2", "--child-epochs", "1",
            "--train-subset", "0", "--val-size", "0.2", "--batch", "16", "--workers", "2", "--out", dir];
        int[] pids;
        using (var search = new CliProcess(_folder.Path, args))
        {
            Assert.True(search.Wait(Patience) == 0, search.Output);
            Assert.Single(search.Output.Split('\n'), l => l.Contains("local workers (pids"));
            pids = WorkerPids(search.Output);
        }
        Assert.Equal(2, pids.Length);
        Assert.All(pids, pid => Assert.False(Running(pid), $"worker {pid} still runs"));

        JsonObject r = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "results.json")))!.AsObject();
        Assert.Equal(4, r["trials_trained"]!.GetValue<int>());
        Assert.Equal(2, r["workers"]!.GetValue<int>());
        using (var store = new SqliteTrialStore(Path.Combine(dir, "trials.db"), "ep"))
        {
            IReadOnlyList<Trial> trials = store.All();
            Assert.Equal(["ep0/step0/branch0", "ep0/step0/branch1", "ep0/step1/branch0", "ep0/step1/branch1"], trials.Select(t => t.Key));
            Assert.All(trials, t => Assert.Equal((TrialStatus.Completed, 1), (t.Status, t.Attempts)));
            // Trained by the workers, not by the coordinator (which only waits while its workers live).
            Assert.All(trials, t => Assert.Matches(@":local[01]$", t.LeaseOwner));
            Assert.Equal(4, r["trials_trained_by_workers"]!.GetValue<int>());
            Assert.Equal(SearchRecord.Finished, store.FindSearch("ep")!.Status);
            Assert.Equal("epnas", store.FindSearch("ep")!.Kind);
        }
        string logs = string.Concat(Directory.GetFiles(Path.Combine(dir, "workers"), "worker-*.log").Select(File.ReadAllText));
        Assert.Equal(4, logs.Split('\n').Count(l => l.Contains(": completed")));

        // Rerun: every child comes from the store, nothing is trained again.
        using (var again = new CliProcess(_folder.Path, args))
            Assert.True(again.Wait(Patience) == 0, again.Output);
        using (var store = new SqliteTrialStore(Path.Combine(dir, "trials.db"), "ep"))
            Assert.All(store.All(), t => Assert.Equal(1, t.Attempts));
    }

    [Fact]
    public void SearchStageWise_WithTwoWorkers_ReportsAsTheSingleProcessRun()
    {
        string data = SharpNas.Tests.Cli.TinyNpy.Write(_folder.Path, train: 60, test: 20);
        string[] search = ["search", "stagewise", "--data", data, "--iterations", "1", "--epochs", "1", "--final-epochs", "2", "--width", "2",
            "--val-size", "0.2", "--batch", "16"];
        string single = Path.Combine(_folder.Path, "runs", "sw-single"), parallel = Path.Combine(_folder.Path, "runs", "sw-par");
        using (var p = new CliProcess(_folder.Path, [.. search, "--out", single]))
            Assert.True(p.Wait(Patience) == 0, p.Output);
        using (var p = new CliProcess(_folder.Path, [.. search, "--out", parallel, "--workers", "2"]))
            Assert.True(p.Wait(Patience) == 0, p.Output);

        static IEnumerable<string> Rows(string dir)
        {
            JsonObject r = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "results.json")))!.AsObject();
            return r["candidates"]!.AsArray().Concat(r["baselines"]!.AsArray()).Append(r["final"]).Append(r["ensemble"])
                .Select(n => n is JsonObject o && o["name"] is not null
                    ? $"{o["name"]} {o["stage_depths"]!.ToJsonString()} {o["valid_accuracy"]?.ToJsonString()} {o["test_accuracy"]?.ToJsonString()}"
                    : n?.ToJsonString() ?? "null");
        }
        Assert.Equal(Rows(single), Rows(parallel));
        using var store = new SqliteTrialStore(Path.Combine(parallel, "trials.db"), "sw-par");
        IReadOnlyList<Trial> trials = store.All();
        Assert.Contains(trials, t => t.Role == "baseline");
        Assert.Contains(trials, t => t.Role == "final");
        Assert.All(trials, t => Assert.Equal((TrialStatus.Completed, 1), (t.Status, t.Attempts)));
        Assert.All(trials, t => Assert.Matches(@":local[01]$", t.LeaseOwner));
        Assert.Equal("stagewise", store.FindSearch("sw-par")!.Kind);
        Assert.Equal("pls", store.FindSearch("sw-par")!.Settings["criterion"]!.GetValue<string>());
    }

    [Fact]
    public void SearchNasNet_WithAWorker_SharesTheBatchWithIt()
    {
        string data = SharpNas.Tests.Cli.TinyNpy.Write(_folder.Path, train: 60, test: 20);
        string dir = Path.Combine(_folder.Path, "runs", "nn");
        using (var p = new CliProcess(_folder.Path, "search", "nasnet", "--data", data, "--strategy", "random", "--budget", "12", "--children-per-update", "12",
                   "--blocks", "2", "--child-f0", "4", "--child-epochs", "6", "--train-subset", "0", "--val-size", "0.25", "--batch", "16", "--workers", "1", "--out", dir))
            Assert.True(p.Wait(Patience) == 0, p.Output);
        using var store = new SqliteTrialStore(Path.Combine(dir, "trials.db"), "nn");
        IReadOnlyList<Trial> trials = store.All();
        Assert.Equal(12, trials.Count);
        Assert.All(trials, t => Assert.Equal((TrialStatus.Completed, 1), (t.Status, t.Attempts)));
        Assert.All(trials, t => Assert.Matches(@":(local0|coordinator)$", t.LeaseOwner));
        Assert.Contains(trials, t => t.LeaseOwner!.EndsWith(":local0", StringComparison.Ordinal));   // the worker took part
        Assert.Contains("is finished", File.ReadAllText(Path.Combine(dir, "workers", "worker-0.log")));
    }

    [SkippableFact]
    public void SearchEpnas_OnPostgres_WithWorkersAndParameterSharing_EndsAsTheSingleProcessSearch()
    {
        string url = TestPostgres.CreateDatabase();
        string data = SharpNas.Tests.Cli.TinyNpy.Write(_folder.Path, train: 60, test: 20);
        string[] search = ["search", "epnas", "--data", data, "--episodes", "1", "--steps", "3", "--branches", "2", "--top-k", "2", "--child-epochs", "1",
            "--train-subset", "0", "--val-size", "0.2", "--batch", "16", "--share-params", "--seed", "4"];
        using (var single = new CliProcess(_folder.Path, [.. search, "--out", Path.Combine(_folder.Path, "runs", "single")]))
            Assert.True(single.Wait(Patience) == 0, single.Output);
        using (var parallel = new CliProcess(_folder.Path, [.. search, "--out", Path.Combine(_folder.Path, "runs", "pg"), "--store", url, "--workers", "2"]))
            Assert.True(parallel.Wait(Patience) == 0, parallel.Output);

        using var store = new PostgresTrialStore(url, "pg");
        IReadOnlyList<Trial> trials = store.All();
        Assert.Equal(6, trials.Count);
        Assert.All(trials, t => Assert.Equal((TrialStatus.Completed, 1), (t.Status, t.Attempts)));
        Assert.All(trials, t => Assert.Matches(@":local[01]$", t.LeaseOwner));
        // Children of steps 1 and 2 start from the dictionary: the coordinator wrote their weights into their folders.
        Trial[] shared = trials.Where(t => t.Config["initial_weights"] is not null).ToArray();
        Assert.NotEmpty(shared);
        Assert.All(shared, t => Assert.True(File.Exists(Path.Combine(_folder.Path, "runs", t.ArtifactDir!, LeasedTrialRunner.InitialWeightsFile))));
        Assert.All(shared, t => Assert.DoesNotContain("step0", t.Key));
        JsonArray Top(string run) => JsonNode.Parse(File.ReadAllText(Path.Combine(_folder.Path, "runs", run, "results.json")))!["top"]!.AsArray();
        Assert.Equal(Top("single").Select(t => (t!["key"]!.ToJsonString(), t["genotype"]!.ToJsonString())),
            Top("pg").Select(t => (t!["key"]!.ToJsonString(), t["genotype"]!.ToJsonString())));
    }

    private static int[] WorkerPids(string output)
    {
        string line = output.Split('\n').First(l => l.Contains("local workers (pids"));
        return line[(line.IndexOf("pids ", StringComparison.Ordinal) + 5)..line.IndexOf(')', StringComparison.Ordinal)].Split(", ").Select(int.Parse).ToArray();
    }

    private static void WaitFor(Func<bool> condition, string what)
    {
        DateTime until = DateTime.UtcNow + Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > until) throw new TimeoutException("timed out waiting for " + what);
            Thread.Sleep(50);
        }
    }

    [Fact]
    public void SearchEpnas_WithWorkers_CoordinatorKilled_LeavesNoOrphanWorkers_AndTheSameCommandFinishesEveryChildOnce()
    {
        string data = SharpNas.Tests.Cli.TinyNpy.Write(_folder.Path, train: 60, test: 20);
        string dir = Path.Combine(_folder.Path, "runs", "killed");
        string[] args = ["search", "epnas", "--data", data, "--episodes", "2", "--steps", "3", "--branches", "2", "--top-k", "2", "--child-epochs", "3",
            "--train-subset", "0", "--val-size", "0.2", "--batch", "8", "--workers", "2", "--out", dir];
        string db = Path.Combine(dir, "trials.db");
        int[] pids;
        using (var first = new CliProcess(_folder.Path, args))
        {
            WaitFor(() => first.HasExited || (File.Exists(db) && CompletedCount(db) > 0), "a completed child");
            Assert.False(first.HasExited, "the search finished before it could be killed:\n" + first.Output);
            using (Process coordinator = Process.GetProcessById(first.Pid)) coordinator.Kill(entireProcessTree: false);   // kill -9 of the coordinator only
            first.Wait(Patience);
            pids = WorkerPids(first.Output);
        }
        // Its workers finish the child they hold and exit.
        WaitFor(() => pids.All(pid => !Running(pid)), "the orphaned workers to exit");
        Assert.True(CompletedCount(db) < 12);

        using (var again = new CliProcess(_folder.Path, args))
            Assert.True(again.Wait(Patience) == 0, again.Output);
        using var store = new SqliteTrialStore(db, "killed");
        IReadOnlyList<Trial> trials = store.All();
        Assert.Equal(12, trials.Count);
        Assert.Equal(12, trials.Select(t => t.Key).Distinct().Count());
        // Each child trained once: the orphans completed what they held, the rerun's workers the rest.
        Assert.All(trials, t => Assert.Equal((TrialStatus.Completed, 1), (t.Status, t.Attempts)));
        JsonObject r = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "results.json")))!.AsObject();
        Assert.Equal(12, r["trials_trained"]!.GetValue<int>());
    }

    private static int CompletedCount(string db)
    {
        try
        {
            using var c = new SqliteConnection($"Data Source={db};Mode=ReadOnly;Pooling=False");
            c.Open();
            using SqliteCommand cmd = c.CreateCommand();
            cmd.CommandText = "SELECT COUNT(*) FROM trials WHERE status = 'completed'";
            return Convert.ToInt32(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (SqliteException) { return 0; }   // not created yet
    }

    [Fact]
    public void Worker_OnASearchThatTrainsItsTrialsItself_IsAOneLineError()
    {
        string data = SharpNas.Tests.Cli.TinyNpy.Write(_folder.Path, train: 40, test: 10);
        string dir = Path.Combine(_folder.Path, "runs", "alone");
        Assert.Equal(0, SharpNas.Cli.Program.Main(["search", "epnas", "--data", data, "--episodes", "1", "--steps", "1", "--branches", "1", "--top-k", "1",
            "--child-epochs", "1", "--train-subset", "0", "--val-size", "0.25", "--batch", "16", "--out", dir]));
        using var worker = new CliProcess(_folder.Path, "worker", "--store", Path.Combine(dir, "trials.db"), "--search", "alone");
        Assert.Equal(2, worker.Wait(Patience));
        string[] errors = worker.Output.Split('\n').Where(l => l.StartsWith("! ", StringComparison.Ordinal)).ToArray();
        Assert.Single(errors);
        Assert.Contains("trains its trials itself", errors[0]);
        Assert.Contains("--workers", errors[0]);
        Assert.Equal(2, SharpNas.Cli.Program.Main(["search", "epnas", "--workers", "-1", "--out", Path.Combine(_folder.Path, "runs", "bad")]));
    }
}
