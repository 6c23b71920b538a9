using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using SharpNas.Search.Trials;
using SharpNas.Tests.Data;

namespace SharpNas.Tests.Trials;

/// <summary>A run folder records where its trials are (never the password), and <c>sharpnas report</c> reads them from
/// there: the default SQLite file, another SQLite file, or PostgreSQL.</summary>
public sealed class RunFolderStoreTests : IDisposable
{
    private readonly TestFolder _folder = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _folder.Dispose();
    }

    [Fact]
    public void TheRecordedUrlHasNoPassword_AndThePasswordComesFromAUrlOfTheSameServerDatabaseAndUser()
    {
        Assert.Equal("postgres://nas@db.example:5433/runs", RunFolderStore.WithoutPassword("postgres://nas:s3cr:et@db.example:5433/runs"));
        Assert.Equal("postgres://nas@db:5432/x", RunFolderStore.WithoutPassword("postgres://nas@db:5432/x"));
        Assert.Equal("postgresql://db/x", RunFolderStore.WithoutPassword("postgresql://db/x"));

        const string stored = "postgres://nas@db:5432/runs";
        Assert.Equal("postgres://nas:pw@DB:5432/runs", RunFolderStore.WithPassword(stored, "postgres://nas:pw@DB:5432/runs"));
        Assert.Equal(stored, RunFolderStore.WithPassword(stored, "postgres://nas:pw@db:5432/other"));
        Assert.Equal(stored, RunFolderStore.WithPassword(stored, "postgres://admin:pw@db:5432/runs"));
        Assert.Equal(stored, RunFolderStore.WithPassword(stored, "postgres://nas:pw@db:6543/runs"));
        Assert.Equal(stored, RunFolderStore.WithPassword(stored, "/some/trials.db"));
        Assert.Equal(stored, RunFolderStore.WithPassword(stored, null));
    }

    [Fact]
    public void AFolderOfAnSqliteStoreElsewhere_OpensThatStore_AndTheDefaultRemovesTheLink()
    {
        string run = Directory.CreateDirectory(Path.Combine(_folder.Path, "run")).FullName, db = Path.Combine(_folder.Path, "shared.db");
        using (var store = new SqliteTrialStore(db, "run")) store.GetOrAdd("t0", "sample", new JsonObject { ["k"] = 0 }, []);
        RunFolderStore.Record(run, db, "run");
        Assert.True(RunFolderStore.Exists(run));
        using (ITrialStore opened = RunFolderStore.Open(run)!)
            Assert.Equal((db, "run", "t0"), (opened.Location, opened.SearchId, opened.All().Single().Key));

        RunFolderStore.Record(run, null, "run");   // rerun with the default store
        Assert.False(File.Exists(Path.Combine(run, RunFolderStore.FileName)));
        Assert.Null(RunFolderStore.Open(run));

        File.WriteAllText(Path.Combine(run, RunFolderStore.FileName), "{\"store\": 3}");
        Assert.Throws<InvalidDataException>(() => RunFolderStore.Open(run));
    }

    [Fact]
    public void Report_OfAFolderWhosePostgresIsUnreachable_IsOneLineErrorExitCode2()
    {
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }
        string run = Directory.CreateDirectory(Path.Combine(_folder.Path, "gone")).FullName;
        RunFolderStore.Record(run, $"postgres://nas:pw@127.0.0.1:{port}/nas", "gone");
        Assert.DoesNotContain("pw", File.ReadAllText(Path.Combine(run, RunFolderStore.FileName)));
        using var p = new CliProcess(_folder.Path, "report", run);
        Assert.Equal(2, p.Wait(TimeSpan.FromMinutes(2)));
        string line = Assert.Single(p.Output.Split('\n'), l => l.StartsWith("! ", StringComparison.Ordinal));
        Assert.Contains($"127.0.0.1:{port}", line);
        Assert.False(File.Exists(Path.Combine(run, "report.html")));
    }

    [SkippableFact]
    public void NasNetSearch_OnPostgres_WritesItsReport_AndSharpnasReportReadsTheTrialsFromPostgres()
    {
        string url = TestPostgres.CreateDatabase();
        string data = SharpNas.Tests.Cli.TinyNpy.Write(_folder.Path, train: 48, test: 12), run = Path.Combine(_folder.Path, "runs", "pgsearch");
        Assert.Equal(0, SharpNas.Cli.Program.Main(["search", "nasnet", "--data", data, "--strategy", "random", "--budget", "2", "--blocks", "2",
            "--child-f0", "4", "--train-subset", "0", "--val-size", "0.25", "--batch", "16", "--store", url, "--out", run]));
        Assert.False(File.Exists(Path.Combine(run, "trials.db")));
        string password = new Uri(url).UserInfo.Split(':') is [_, var pw] ? pw : "";
        JsonObject link = JsonNode.Parse(File.ReadAllText(Path.Combine(run, RunFolderStore.FileName)))!.AsObject();
        Assert.Equal(("pgsearch", RunFolderStore.WithoutPassword(url)), (link["search"]!.GetValue<string>(), link["store"]!.GetValue<string>()));
        string page = File.ReadAllText(Path.Combine(run, "report.html"));
        Assert.Contains("sample/000001", page);
        if (password.Length > 0) Assert.DoesNotContain(":" + password + "@", page);

        File.Delete(Path.Combine(run, "report.html"));
        Assert.Equal(0, SharpNas.Cli.Program.Main(["report", run]));   // no --store, no SHARPNAS_STORE: store.json says where
        page = File.ReadAllText(Path.Combine(run, "report.html"));
        Assert.Contains("sample/000000", page);
        Assert.Contains("sample/000001", page);
        Assert.Contains("2 (2 completed, 0 failed)", page);
    }
}
