using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using SharpNas.Search.Trials;

namespace SharpNas.Tests.Trials;

/// <summary>The two trial stores honour one contract: idempotent enqueue, leases (order, heartbeat, expiry, takeover,
/// attempts, failure after N), completion only by the lease owner, search rows.</summary>
public sealed class TrialStoreTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "sharpnas-trials-" + Guid.NewGuid().ToString("N"));

    public TrialStoreTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, true);
    }

    public static TheoryData<string> Backends => new() { "sqlite", "postgres" };

    private ITrialStore Open(string backend, string search = "s1") => backend == "sqlite"
        ? new SqliteTrialStore(Path.Combine(_dir, "trials.db"), search)
        : new PostgresTrialStore(TestPostgres.CreateDatabase(), search);

    private static JsonObject Genotype(int i) => new() { ["kind"] = "discrete", ["key"] = $"k{i}", ["choices"] = new JsonArray(i) };

    private static readonly LeaseOptions Short = new() { Lease = TimeSpan.FromSeconds(1), MaxAttempts = 2 };

    [SkippableTheory]
    [MemberData(nameof(Backends))]
    public void Enqueue_IsIdempotentPerKey_AndLeasesComeInCreationOrder(string backend)
    {
        using ITrialStore store = Open(backend);
        for (int i = 0; i < 3; i++) store.GetOrAdd($"t{i}", "sample", Genotype(i), new JsonObject { ["epochs"] = 1 }, $"s1/trials/k{i}");
        Trial again = store.GetOrAdd("t0", "sample", Genotype(9), []);
        Assert.Equal("k0", again.Genotype["key"]!.GetValue<string>());   // the first row wins
        Assert.Equal(3, store.All().Count);
        Assert.Equal("s1/trials/k1", store.Find("t1")!.ArtifactDir);

        Trial a = store.Lease("w1", Short)!, b = store.Lease("w2", Short)!;
        Assert.Equal(("t0", "t1"), (a.Key, b.Key));
        Assert.Equal((TrialStatus.Running, 1, "w1"), (a.Status, a.Attempts, a.LeaseOwner));
        Assert.NotNull(a.LeaseExpiresUtc);
        Assert.Equal("t2", store.Lease("w1", Short)!.Key);
        Assert.Null(store.Lease("w3", Short));   // all taken, none expired
    }

    [SkippableTheory]
    [MemberData(nameof(Backends))]
    public void OnlyTheLeaseOwnerCompletes_AndAnExpiredLeaseIsTakenOverWithItsAttemptCounted(string backend)
    {
        using ITrialStore store = Open(backend);
        store.GetOrAdd("t0", "sample", Genotype(0), []);
        Trial leased = store.Lease("w1", Short)!;
        Assert.True(store.Heartbeat("t0", "w1", Short.Lease));
        Assert.False(store.Heartbeat("t0", "w2", Short.Lease));
        Assert.Null(store.CompleteLease("t0", "w2", new JsonObject { ["reward"] = 0.1 }));

        Thread.Sleep(1500);   // w1 "died": its lease runs out
        Trial taken = store.Lease("w2", Short)!;
        Assert.Equal(("t0", 2, "w2"), (taken.Key, taken.Attempts, taken.LeaseOwner));
        Assert.Null(store.CompleteLease("t0", "w1", new JsonObject { ["reward"] = 0.1 }));   // the old owner is too late
        Trial done = store.CompleteLease("t0", "w2", new JsonObject { ["reward"] = 0.5 })!;
        Assert.Equal((TrialStatus.Completed, 0.5, "w2"), (done.Status, done.Metrics!["reward"]!.GetValue<double>(), done.LeaseOwner));
        Assert.NotNull(done.FinishedUtc);
        Assert.Null(store.Lease("w3", Short));
        Assert.True(leased.StartedUtc <= done.FinishedUtc);
    }

    [SkippableTheory]
    [MemberData(nameof(Backends))]
    public void ATrialIsFailedAfterMaxAttempts_ByErrorsOrByDeadWorkers(string backend)
    {
        using ITrialStore store = Open(backend);
        store.GetOrAdd("errors", "sample", Genotype(0), []);
        store.GetOrAdd("dead", "sample", Genotype(1), []);
        Assert.Equal(TrialStatus.Queued, store.FailLease(store.Lease("w", Short)!.Key, "w", "boom 1", Short.MaxAttempts)!.Status);
        Trial failed = store.FailLease(store.Lease("w", Short)!.Key, "w", "boom 2", Short.MaxAttempts)!;
        Assert.Equal(("errors", TrialStatus.Failed, 2, "boom 2"), (failed.Key, failed.Status, failed.Attempts, failed.Error));

        Assert.Equal("dead", store.Lease("w1", Short)!.Key);
        Thread.Sleep(1200);
        Assert.Equal(2, store.Lease("w2", Short)!.Attempts);
        Thread.Sleep(1200);
        Assert.Null(store.Lease("w3", Short));   // expired after its last attempt: failed, not leased again
        Trial dead = store.Find("dead")!;
        Assert.Equal(TrialStatus.Failed, dead.Status);
        Assert.Contains("w2 stopped heartbeating", dead.Error);
    }

    [SkippableTheory]
    [MemberData(nameof(Backends))]
    public void ReleasedTrialsAreQueuedAgainWithoutCountingTheAttempt_AndPruneStoresMetrics(string backend)
    {
        using ITrialStore store = Open(backend);
        store.GetOrAdd("t0", "sample", Genotype(0), []);
        store.GetOrAdd("t1", "sample", Genotype(1), []);
        store.Lease("w", Short);
        store.ReleaseLease("t0", "w");
        Trial t0 = store.Find("t0")!;
        Assert.Equal((TrialStatus.Queued, 0), (t0.Status, t0.Attempts));
        store.Start("t1", "dir");
        Trial pruned = store.Prune("t1", new JsonObject { ["epoch"] = 2 });
        Assert.Equal((TrialStatus.Pruned, 2), (pruned.Status, pruned.Metrics!["epoch"]!.GetValue<int>()));
    }

    [SkippableTheory]
    [MemberData(nameof(Backends))]
    public void SearchRowsHoldKindSettingsAndStatus(string backend)
    {
        using ITrialStore store = Open(backend);
        Assert.Null(store.FindSearch("s1"));
        store.SaveSearch("smoke", new JsonObject { ["decisions"] = 3, ["lease"] = Short.ToJson() });
        SearchRecord finished = store.SaveSearch("smoke", new JsonObject { ["decisions"] = 4 }, SearchRecord.Finished);
        Assert.Equal(("s1", "smoke", SearchRecord.Finished, 4), (finished.Id, finished.Kind, finished.Status, finished.Settings["decisions"]!.GetValue<int>()));
        Assert.Single(store.Searches());
        Assert.Equal(new LeaseOptions(), finished.Lease);   // no lease stored any more: defaults
        Assert.Equal(Short.Lease, LeaseOptions.FromJson(Short.ToJson()).Lease);
    }

    [SkippableFact]
    public void Postgres_KeysAreUniquePerSearch_NotAcrossSearches()
    {
        string url = TestPostgres.CreateDatabase();
        using var a = new PostgresTrialStore(url, "a");
        using ITrialStore b = a.ForSearch("b");
        a.GetOrAdd("sample/000000", "sample", Genotype(1), []);
        b.GetOrAdd("sample/000000", "sample", Genotype(2), []);
        Assert.Equal("k1", a.Find("sample/000000")!.Genotype["key"]!.GetValue<string>());
        Assert.Equal("k2", b.Find("sample/000000")!.Genotype["key"]!.GetValue<string>());
        Assert.Equal("a", a.Lease("w", Short)!.SearchId);
        Assert.Null(a.Lease("w", Short));   // b's trial is not a's
    }

    [SkippableFact]
    public void Postgres_ANewerSchemaIsAClearError()
    {
        string url = TestPostgres.CreateDatabase();
        using (var store = new PostgresTrialStore(url, "a"))
        {
            Assert.Equal(PostgresTrialStore.SchemaVersion, store.ReadSchemaVersion());
            using var c = new Npgsql.NpgsqlConnection(PostgresTrialStore.ParseUrl(url).ConnectionString);
            c.Open();
            using var cmd = new Npgsql.NpgsqlCommand("UPDATE sharpnas_schema SET version = 99", c);
            cmd.ExecuteNonQuery();
        }
        var e = Assert.Throws<InvalidDataException>(() => new PostgresTrialStore(url, "a"));
        Assert.Contains("schema version 99 is newer", e.Message);
    }

    [Fact]
    public void Postgres_UnreachableServer_IsOneLineNamingHostPortAndTheError()
    {
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }   // closed again: nothing listens there
        var e = Assert.Throws<InvalidDataException>(() => new PostgresTrialStore($"postgres://u:secret@127.0.0.1:{port}/nas", "a"));
        Assert.Contains($"127.0.0.1:{port}", e.Message);
        Assert.Contains("refused", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("secret", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void PostgresUrl_IsParsed_AndBadOnesAreRejected()
    {
        var cs = PostgresTrialStore.ParseUrl("postgres://nas:p%40ss@db.example:6543/search");
        Assert.Equal(("db.example", 6543, "nas", "p@ss", "search"), (cs.Host, cs.Port, cs.Username, cs.Password, cs.Database));
        Assert.Equal(5432, PostgresTrialStore.ParseUrl("postgresql://h/d").Port);
        Assert.Throws<ArgumentException>(() => PostgresTrialStore.ParseUrl("postgres:///nohost"));
        Assert.Equal("postgres://nas:***@h:1/d", PostgresTrialStore.Redact("postgres://nas:pw@h:1/d"));
    }
}
