using System.Data.Common;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;

namespace SharpNas.Search.Trials;

/// <summary>
/// The trial store in an SQLite file (default <c>RUN/trials.db</c>), in WAL mode with a busy timeout so that
/// several local processes can share it (leasing takes the write lock with <c>BEGIN IMMEDIATE</c>). A file holds one
/// search. Table <c>trials</c>: id, key (unique), role, genotype, config, status (<c>queued</c>, <c>running</c>,
/// <c>completed</c>, <c>failed</c>, <c>pruned</c>), metrics, artifact_dir, attempts, error, created_utc, updated_utc,
/// and since schema 2 lease_owner, lease_expires_utc, heartbeat_utc, started_utc, finished_utc; table <c>searches</c>
/// (schema 2): id, kind, settings, status, created_utc, updated_utc; table <c>trial_epochs</c> (schema 3): trial_id,
/// epoch, valid_accuracy, reported_utc — the intermediate values trials report while they train. JSON columns hold
/// JSON text, times ISO 8601 UTC.
/// Schema version in <c>PRAGMA user_version</c>; an older file is migrated when opened, a newer one is refused.
/// </summary>
public sealed class SqliteTrialStore : ITrialStore
{
    /// <summary>The schema version this code writes.</summary>
    public const int SchemaVersion = 3;

    /// <summary>Schema changes, index i taking version i to i + 1.</summary>
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE IF NOT EXISTS trials (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            key TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL,
            genotype TEXT NOT NULL,
            config TEXT NOT NULL,
            status TEXT NOT NULL,
            metrics TEXT,
            artifact_dir TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            created_utc TEXT NOT NULL,
            updated_utc TEXT NOT NULL);
        """,
        """
        ALTER TABLE trials ADD COLUMN lease_owner TEXT;
        ALTER TABLE trials ADD COLUMN lease_expires_utc TEXT;
        ALTER TABLE trials ADD COLUMN heartbeat_utc TEXT;
        ALTER TABLE trials ADD COLUMN started_utc TEXT;
        ALTER TABLE trials ADD COLUMN finished_utc TEXT;
        UPDATE trials SET started_utc = created_utc WHERE attempts > 0;
        UPDATE trials SET finished_utc = updated_utc WHERE status IN ('completed', 'failed', 'pruned');
        UPDATE trials SET lease_expires_utc = '0001-01-01T00:00:00.0000000Z' WHERE status = 'running';
        CREATE INDEX IF NOT EXISTS trials_status ON trials (status, id);
        CREATE TABLE IF NOT EXISTS searches (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            settings TEXT NOT NULL,
            status TEXT NOT NULL,
            created_utc TEXT NOT NULL,
            updated_utc TEXT NOT NULL);
        """,
        // 2 → 3: intermediate values; the curves of trials finished before are copied from their metrics' valid_curve.
        """
        CREATE TABLE IF NOT EXISTS trial_epochs (
            trial_id INTEGER NOT NULL REFERENCES trials(id),
            epoch INTEGER NOT NULL,
            valid_accuracy REAL NOT NULL,
            reported_utc TEXT NOT NULL,
            PRIMARY KEY (trial_id, epoch));
        INSERT OR IGNORE INTO trial_epochs (trial_id, epoch, valid_accuracy, reported_utc)
            SELECT t.id, CAST(c.key AS INTEGER) + 1, c.value, t.updated_utc FROM trials t, json_each(t.metrics, '$.valid_curve') c
            WHERE t.metrics IS NOT NULL AND json_valid(t.metrics) AND json_type(t.metrics, '$.valid_curve') = 'array' AND c.type IN ('real', 'integer');
        """,
    ];

    private static readonly TrialRows Rows = new("lease_expires_utc", "heartbeat_utc", (r, column) => Time(TrialRows.Text(r, column)));
    private readonly SqliteConnection _db;
    private readonly Lock _gate = new();   // one connection, used by the heartbeat timer too

    /// <summary>The database file.</summary>
    public string Path { get; }

    /// <inheritdoc/>
    public string SearchId { get; }

    /// <inheritdoc/>
    public string Location => Path;

    /// <summary>Opens (creating or migrating if needed) the store at <paramref name="path"/> for search
    /// <paramref name="searchId"/> (the file's one search).</summary>
    public SqliteTrialStore(string path, string searchId = TrialStores.DefaultSearchId)
    {
        Path = path;
        SearchId = searchId;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        _db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        _db.Open();
        Execute("PRAGMA journal_mode=WAL; PRAGMA busy_timeout=10000; PRAGMA synchronous=NORMAL;");
        try
        {
            WriteTransaction(() =>   // one process migrates, the others wait for it
            {
                long version = Scalar<long>("PRAGMA user_version");
                if (version > SchemaVersion)
                    throw new InvalidDataException($"{path}: trial store schema version {version} is newer than this SharpNas supports ({SchemaVersion}); use a newer sharpnas");
                for (long v = version; v < SchemaVersion; v++)
                    Execute(Migrations[v] + $"\nPRAGMA user_version = {v + 1};");
                return 0;
            });
        }
        catch
        {
            _db.Dispose();
            throw;
        }
    }

    /// <summary>Runs <paramref name="body"/> holding SQLite's write lock (<c>BEGIN IMMEDIATE</c>), committing at the end.</summary>
    private T WriteTransaction<T>(Func<T> body)
    {
        Execute("BEGIN IMMEDIATE");
        try
        {
            T result = body();
            Execute("COMMIT");
            return result;
        }
        catch
        {
            Execute("ROLLBACK");
            throw;
        }
    }

    /// <summary>The schema version of the file at <paramref name="path"/> (0 for a new file).</summary>
    public static long ReadSchemaVersion(string path)
    {
        using var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false, Mode = SqliteOpenMode.ReadOnly }.ToString());
        db.Open();
        using SqliteCommand cmd = db.CreateCommand();
        cmd.CommandText = "PRAGMA user_version";
        return (long)cmd.ExecuteScalar()!;
    }

    /// <inheritdoc/>
    public Trial? Find(string key)
    {
        lock (_gate) return FindCore(key);
    }

    private Trial? FindCore(string key)
    {
        using SqliteCommand cmd = Command("SELECT * FROM trials WHERE key = $key", ("$key", key));
        return TrialRows.ReadAll(cmd, Read).FirstOrDefault();
    }

    /// <inheritdoc/>
    public Trial GetOrAdd(string key, string role, JsonObject genotype, JsonObject config, string? artifactDir = null)
    {
        lock (_gate)
        {
            string now = Now();
            using (SqliteCommand cmd = Command("""
                INSERT INTO trials (key, role, genotype, config, status, artifact_dir, created_utc, updated_utc)
                VALUES ($key, $role, $genotype, $config, 'queued', $dir, $now, $now) ON CONFLICT(key) DO NOTHING
                """, ("$key", key), ("$role", role), ("$genotype", genotype.ToJsonString()), ("$config", config.ToJsonString()),
                ("$dir", (object?)artifactDir ?? DBNull.Value), ("$now", now)))
                cmd.ExecuteNonQuery();
            return FindCore(key)!;
        }
    }

    /// <inheritdoc/>
    public Trial Start(string key, string artifactDir) =>
        Update(key, "status = 'running', attempts = attempts + 1, artifact_dir = $a, error = NULL, started_utc = COALESCE(started_utc, $now)", ("$a", artifactDir));

    /// <inheritdoc/>
    public Trial Complete(string key, JsonObject metrics) =>
        Update(key, "status = 'completed', metrics = $m, error = NULL, lease_expires_utc = NULL, finished_utc = $now", ("$m", metrics.ToJsonString()));

    /// <inheritdoc/>
    public Trial Fail(string key, string error) =>
        Update(key, "status = 'failed', error = $e, lease_expires_utc = NULL, finished_utc = $now", ("$e", error));

    /// <inheritdoc/>
    public Trial Prune(string key, JsonObject metrics) =>
        Update(key, "status = 'pruned', metrics = $m, lease_expires_utc = NULL, finished_utc = $now", ("$m", metrics.ToJsonString()));

    /// <inheritdoc/>
    public IReadOnlyList<Trial> All()
    {
        lock (_gate)
        {
            using SqliteCommand cmd = Command("SELECT * FROM trials ORDER BY id");
            return TrialRows.ReadAll(cmd, Read);
        }
    }

    /// <inheritdoc/>
    public void ReportEpochs(string key, IReadOnlyList<double> validAccuracy)
    {
        lock (_gate)
        {
            WriteTransaction(() =>
            {
                string now = Now();
                for (int e = 0; e < validAccuracy.Count; e++)
                {
                    using SqliteCommand cmd = Command("""
                        INSERT INTO trial_epochs (trial_id, epoch, valid_accuracy, reported_utc) SELECT id, $epoch, $value, $now FROM trials WHERE key = $key
                        ON CONFLICT(trial_id, epoch) DO UPDATE SET valid_accuracy = excluded.valid_accuracy, reported_utc = excluded.reported_utc
                        """, ("$epoch", e + 1), ("$value", validAccuracy[e]), ("$now", now), ("$key", key));
                    cmd.ExecuteNonQuery();
                }
                return 0;
            });
        }
    }

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, IReadOnlyList<double>> EpochValues()
    {
        lock (_gate)
        {
            using SqliteCommand cmd = Command("SELECT t.key, e.epoch, e.valid_accuracy FROM trial_epochs e JOIN trials t ON t.id = e.trial_id ORDER BY t.id, e.epoch");
            return TrialRows.Curves(cmd);
        }
    }

    /// <inheritdoc/>
    public SearchRecord SaveSearch(string kind, JsonObject settings, string status = SearchRecord.Running)
    {
        lock (_gate)
        {
            using (SqliteCommand cmd = Command("""
                INSERT INTO searches (id, kind, settings, status, created_utc, updated_utc) VALUES ($id, $kind, $settings, $status, $now, $now)
                ON CONFLICT(id) DO UPDATE SET kind = $kind, settings = $settings, status = $status, updated_utc = $now
                """, ("$id", SearchId), ("$kind", kind), ("$settings", settings.ToJsonString()), ("$status", status), ("$now", Now())))
                cmd.ExecuteNonQuery();
            return FindSearchCore(SearchId)!;
        }
    }

    /// <inheritdoc/>
    public SearchRecord? FindSearch(string id)
    {
        lock (_gate) return FindSearchCore(id);
    }

    private SearchRecord? FindSearchCore(string id)
    {
        using SqliteCommand cmd = Command("SELECT * FROM searches WHERE id = $id", ("$id", id));
        return TrialRows.ReadAll(cmd, Rows.Search).FirstOrDefault();
    }

    /// <inheritdoc/>
    public IReadOnlyList<SearchRecord> Searches()
    {
        lock (_gate)
        {
            using SqliteCommand cmd = Command("SELECT * FROM searches ORDER BY created_utc, id");
            return TrialRows.ReadAll(cmd, Rows.Search);
        }
    }

    /// <inheritdoc/>
    public ITrialStore ForSearch(string searchId) => searchId == SearchId ? new SqliteTrialStore(Path, searchId)
        : throw new InvalidDataException($"{Path}: an SQLite trial store holds one search ({SearchId}), not {searchId}");

    /// <inheritdoc/>
    public Trial? Lease(string owner, LeaseOptions options)
    {
        lock (_gate)
        {
            return WriteTransaction(() => LeaseCore(owner, options));
        }
    }

    private Trial? LeaseCore(string owner, LeaseOptions options)
    {
        string now = Now();
        using (SqliteCommand cmd = Command("""
            UPDATE trials SET status = 'failed', lease_expires_utc = NULL, finished_utc = $now, updated_utc = $now,
                error = 'worker ' || COALESCE(lease_owner, '?') || ' stopped heartbeating (attempt ' || attempts || ' of ' || $max || ')' || COALESCE('; last error: ' || error, '')
            WHERE status = 'running' AND lease_expires_utc IS NOT NULL AND lease_expires_utc < $now AND attempts >= $max
            """, ("$now", now), ("$max", options.MaxAttempts)))
            cmd.ExecuteNonQuery();
        long? id;
        using (SqliteCommand cmd = Command("""
            SELECT id FROM trials WHERE status = 'queued' OR (status = 'running' AND lease_expires_utc IS NOT NULL AND lease_expires_utc < $now)
            ORDER BY id LIMIT 1
            """, ("$now", now)))
            id = cmd.ExecuteScalar() as long?;
        Trial? leased = null;
        if (id is long rowId)
        {
            using (SqliteCommand cmd = Command("""
                UPDATE trials SET status = 'running', attempts = attempts + 1, lease_owner = $owner, lease_expires_utc = $until,
                    heartbeat_utc = $now, started_utc = COALESCE(started_utc, $now), updated_utc = $now WHERE id = $id
                """, ("$owner", owner), ("$until", Utc(DateTime.UtcNow + options.Lease)), ("$now", now), ("$id", rowId)))
                cmd.ExecuteNonQuery();
            using SqliteCommand find = Command("SELECT * FROM trials WHERE id = $id", ("$id", rowId));
            leased = TrialRows.ReadAll(find, Read).Single();
        }
        return leased;
    }

    /// <inheritdoc/>
    public bool Heartbeat(string key, string owner, TimeSpan lease)
    {
        lock (_gate)
        {
            using SqliteCommand cmd = Command("""
                UPDATE trials SET heartbeat_utc = $now, lease_expires_utc = $until
                WHERE key = $key AND status = 'running' AND lease_owner = $owner
                """, ("$now", Now()), ("$until", Utc(DateTime.UtcNow + lease)), ("$key", key), ("$owner", owner));
            return cmd.ExecuteNonQuery() == 1;
        }
    }

    /// <inheritdoc/>
    public Trial? CompleteLease(string key, string owner, JsonObject metrics, bool pruned = false) => UpdateLeased(key, owner,
        $"status = '{(pruned ? "pruned" : "completed")}', metrics = $m, error = NULL, lease_expires_utc = NULL, finished_utc = $now", ("$m", metrics.ToJsonString()));

    /// <inheritdoc/>
    public Trial? FailLease(string key, string owner, string error, int maxAttempts) => UpdateLeased(key, owner, """
        status = CASE WHEN attempts >= $max THEN 'failed' ELSE 'queued' END, error = $e, lease_expires_utc = NULL,
        finished_utc = CASE WHEN attempts >= $max THEN $now ELSE NULL END
        """, ("$e", error), ("$max", maxAttempts));

    /// <inheritdoc/>
    public void ReleaseLease(string key, string owner) =>
        UpdateLeased(key, owner, "status = 'queued', attempts = MAX(attempts - 1, 0), lease_expires_utc = NULL");

    /// <inheritdoc/>
    public void ExpireLease(string key)
    {
        lock (_gate)
        {
            using SqliteCommand cmd = Command("UPDATE trials SET lease_expires_utc = $past WHERE key = $key AND status = 'running'",
                ("$past", Utc(DateTime.UnixEpoch)), ("$key", key));
            cmd.ExecuteNonQuery();
        }
    }

    private Trial? UpdateLeased(string key, string owner, string set, params (string, object)[] args)
    {
        lock (_gate)
        {
            using SqliteCommand cmd = Command($"UPDATE trials SET {set}, updated_utc = $now WHERE key = $key AND status = 'running' AND lease_owner = $owner",
                [.. args, ("$key", key), ("$owner", owner), ("$now", Now())]);
            return cmd.ExecuteNonQuery() == 1 ? FindCore(key) : null;
        }
    }

    private Trial Update(string key, string set, params (string, object)[] args)
    {
        lock (_gate)
        {
            using SqliteCommand cmd = Command($"UPDATE trials SET {set}, updated_utc = $now WHERE key = $key", [.. args, ("$key", key), ("$now", Now())]);
            if (cmd.ExecuteNonQuery() != 1) throw new InvalidOperationException($"{Path}: no trial with key {key}");
            return FindCore(key)!;
        }
    }

    private Trial Read(DbDataReader r) => Rows.Trial(r, SearchId);

    private static DateTime? Time(string? s) => s is null ? null : DateTime.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);

    // Fixed-width ISO 8601 UTC, so that text comparison in SQL orders times.
    private static string Utc(DateTime t) => t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    private static string Now() => Utc(DateTime.UtcNow);

    private SqliteCommand Command(string sql, params (string Name, object Value)[] args)
    {
        SqliteCommand cmd = _db.CreateCommand();
        cmd.CommandText = sql;
        foreach ((string name, object value) in args) cmd.Parameters.AddWithValue(name, value);
        return cmd;
    }

    private void Execute(string sql)
    {
        using SqliteCommand cmd = Command(sql);
        cmd.ExecuteNonQuery();
    }

    private T Scalar<T>(string sql)
    {
        using SqliteCommand cmd = Command(sql);
        return (T)Convert.ChangeType(cmd.ExecuteScalar()!, typeof(T), CultureInfo.InvariantCulture);
    }

    /// <inheritdoc/>
    public void Dispose() => _db.Dispose();
}
