using Microsoft.Data.Sqlite;
using SharpNas.Search.Trials;

namespace SharpNas.Tests.Trials;

/// <summary>An SQLite store written by an older SharpNas (schema 1) is migrated in place; a newer one is refused.</summary>
public sealed class SqliteMigrationTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "sharpnas-migrate-" + Guid.NewGuid().ToString("N"));

    public SqliteMigrationTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, true);
    }

    private static void Execute(string path, string sql)
    {
        using var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        db.Open();
        using SqliteCommand cmd = db.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    /// <summary>The schema SharpNas wrote before leases existed (version 1), with one completed and one running trial.</summary>
    private string Version1Store()
    {
        string path = Path.Combine(_dir, "trials.db");
        Execute(path, """
            CREATE TABLE trials (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, role TEXT NOT NULL, genotype TEXT NOT NULL,
                config TEXT NOT NULL, status TEXT NOT NULL, metrics TEXT, artifact_dir TEXT, attempts INTEGER NOT NULL DEFAULT 0, error TEXT,
                created_utc TEXT NOT NULL, updated_utc TEXT NOT NULL);
            INSERT INTO trials (key, role, genotype, config, status, metrics, artifact_dir, attempts, created_utc, updated_utc) VALUES
                ('sample/000000', 'sample', '{"key":"a"}', '{}', 'completed', '{"reward":0.5}', 'trials/a', 1, '2026-01-01T00:00:00.0000000Z', '2026-01-01T00:01:00.0000000Z'),
                ('sample/000001', 'sample', '{"key":"b"}', '{}', 'running', NULL, 'trials/b', 1, '2026-01-01T00:01:00.0000000Z', '2026-01-01T00:01:00.0000000Z');
            PRAGMA user_version = 1;
            """);
        return path;
    }

    [Fact]
    public void Version1Store_IsMigratedKeepingItsTrials_AndItsRunningTrialCanBeLeased()
    {
        string path = Version1Store();
        using (var store = new SqliteTrialStore(path, "old"))
        {
            IReadOnlyList<Trial> trials = store.All();
            Assert.Equal(2, trials.Count);
            Assert.Equal((TrialStatus.Completed, 0.5), (trials[0].Status, trials[0].Metrics!["reward"]!.GetValue<double>()));
            Assert.Equal(new DateTime(2026, 1, 1, 0, 1, 0, DateTimeKind.Utc), trials[0].FinishedUtc);
            Assert.Null(trials[1].LeaseOwner);
            Assert.Empty(store.Searches());
            store.SaveSearch("smoke", []);
            // A trial left running by a killed old process gets an expired lease: the next process takes it over.
            Assert.Equal(("sample/000001", 2), (store.Lease("w", new LeaseOptions())!.Key, store.Find("sample/000001")!.Attempts));
        }
        Assert.Equal(SqliteTrialStore.SchemaVersion, SqliteTrialStore.ReadSchemaVersion(path));
        using (var again = new SqliteTrialStore(path, "old")) Assert.Single(again.Searches());   // opening twice migrates once
    }

    [Fact]
    public void NewerSchema_IsAClearErrorNamingTheFileAndBothVersions()
    {
        string path = Path.Combine(_dir, "future.db");
        Execute(path, "CREATE TABLE trials (id INTEGER); PRAGMA user_version = 7;");
        var e = Assert.Throws<InvalidDataException>(() => new SqliteTrialStore(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("schema version 7 is newer", e.Message);
        Assert.Contains($"({SqliteTrialStore.SchemaVersion})", e.Message);
    }
}
