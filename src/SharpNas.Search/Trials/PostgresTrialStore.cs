using System.Data;
using System.Data.Common;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Npgsql;

namespace SharpNas.Search.Trials;

/// <summary>
/// The trial store in PostgreSQL (through Npgsql), shared by a search's coordinator and any number of workers on any
/// machines. Tables: <c>searches</c> (id, kind, settings, status, times), <c>trials</c> (search_id, key — unique per
/// search —, role, genotype, config, status, lease_owner, lease_expires, heartbeat, attempts, metrics, artifact_dir,
/// error, created/updated/started/finished times), <c>trial_epochs</c> (trial_id, epoch, valid_accuracy, reported_utc:
/// the intermediate values of training trials) and <c>sharpnas_schema</c> (the schema version). Lease times come
/// from the server's clock (<c>now()</c>), so machines' clocks need not agree. Leasing uses
/// <c>SELECT … FOR UPDATE SKIP LOCKED</c>; completing is one conditional UPDATE. Every call takes a pooled connection,
/// so one object can be used from several threads (the heartbeat timer).
/// </summary>
public sealed class PostgresTrialStore : ITrialStore
{
    /// <summary>The schema version this code writes. Versions are numbered as SQLite's: a version means the same
    /// tables in both backends (PostgreSQL's version 1 already had what SQLite's version 2 added).</summary>
    public const int SchemaVersion = 3;

    /// <summary>Schema changes, index i taking version i to i + 1.</summary>
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE searches (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            settings TEXT NOT NULL,
            status TEXT NOT NULL,
            created_utc TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_utc TIMESTAMPTZ NOT NULL DEFAULT now());
        CREATE TABLE trials (
            id BIGSERIAL PRIMARY KEY,
            search_id TEXT NOT NULL,
            key TEXT NOT NULL,
            role TEXT NOT NULL,
            genotype TEXT NOT NULL,
            config TEXT NOT NULL,
            status TEXT NOT NULL,
            lease_owner TEXT,
            lease_expires TIMESTAMPTZ,
            heartbeat TIMESTAMPTZ,
            attempts INTEGER NOT NULL DEFAULT 0,
            metrics TEXT,
            artifact_dir TEXT,
            error TEXT,
            created_utc TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_utc TIMESTAMPTZ NOT NULL DEFAULT now(),
            started_utc TIMESTAMPTZ,
            finished_utc TIMESTAMPTZ,
            UNIQUE (search_id, key));
        CREATE INDEX trials_queue ON trials (search_id, status, id);
        """,
        // 1 → 2: nothing (SQLite's 1 → 2 added the leases and searches, which PostgreSQL had from version 1).
        "SELECT 1;",
        // 2 → 3: intermediate values; the curves of trials finished before are copied from their metrics' valid_curve.
        """
        CREATE TABLE trial_epochs (
            trial_id BIGINT NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
            epoch INTEGER NOT NULL,
            valid_accuracy DOUBLE PRECISION NOT NULL,
            reported_utc TIMESTAMPTZ NOT NULL DEFAULT now(),
            PRIMARY KEY (trial_id, epoch));
        INSERT INTO trial_epochs (trial_id, epoch, valid_accuracy, reported_utc)
            SELECT t.id, c.n, c.v::double precision, t.updated_utc FROM trials t,
                jsonb_array_elements_text(CASE WHEN jsonb_typeof(t.metrics::jsonb -> 'valid_curve') = 'array'
                    THEN t.metrics::jsonb -> 'valid_curve' ELSE '[]'::jsonb END) WITH ORDINALITY AS c(v, n);
        """,
    ];

    private const long MigrationLock = 0x5348_4E41_5354_5253;   // advisory lock id ("SHNASTRS")
    private static readonly TrialRows Rows = new("lease_expires", "heartbeat", Time);
    private readonly NpgsqlDataSource _source;
    private readonly bool _ownsSource;

    /// <inheritdoc/>
    public string SearchId { get; }

    /// <inheritdoc/>
    public string Location { get; }

    /// <summary>Connects to <paramref name="url"/> (<c>postgres://user:password@host:port/db</c>), creating or
    /// migrating the schema, bound to search <paramref name="searchId"/>. An unreachable server or a newer schema is a
    /// <see cref="InvalidDataException"/> naming host and port.</summary>
    public PostgresTrialStore(string url, string searchId)
    {
        SearchId = searchId;
        NpgsqlConnectionStringBuilder cs = ParseUrl(url);
        Location = $"postgres://{cs.Host}:{cs.Port}/{cs.Database}";
        _source = NpgsqlDataSource.Create(cs);
        _ownsSource = true;
        try { Migrate(); }
        catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException)
        {
            _source.Dispose();
            string why = e is PostgresException pg ? $"{pg.SqlState}: {pg.MessageText}" : (e.InnerException?.Message ?? e.Message);
            throw new InvalidDataException($"trial store {cs.Host}:{cs.Port} (database {cs.Database}): cannot connect: {why}".ReplaceLineEndings(" "), e);
        }
        catch
        {
            _source.Dispose();
            throw;
        }
    }

    private PostgresTrialStore(NpgsqlDataSource source, string location, string searchId)
    {
        _source = source;
        Location = location;
        SearchId = searchId;
    }

    /// <summary>Reads <c>postgres://user:password@host:port/db</c> (user, password, port optional; percent-escapes allowed).</summary>
    public static NpgsqlConnectionStringBuilder ParseUrl(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) || !TrialStores.IsPostgres(url) || string.IsNullOrEmpty(uri.Host))
            throw new ArgumentException($"--store {Redact(url)}: expected postgres://user:password@host:port/database");
        string[] user = uri.UserInfo.Split(':', 2);
        string db = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        var cs = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port < 0 ? 5432 : uri.Port,
            Database = db.Length > 0 ? db : "postgres",
            Timeout = 10,
            CommandTimeout = 60,
        };
        if (user[0].Length > 0) cs.Username = Uri.UnescapeDataString(user[0]);
        if (user.Length > 1) cs.Password = Uri.UnescapeDataString(user[1]);
        return cs;
    }

    /// <summary>The URL with its password replaced by <c>***</c>, for messages.</summary>
    public static string Redact(string url)
    {
        int at = url.IndexOf('@'), scheme = url.IndexOf("://", StringComparison.Ordinal);
        if (at < 0 || scheme < 0) return url;
        int colon = url.IndexOf(':', scheme + 3);
        return colon >= 0 && colon < at ? url[..(colon + 1)] + "***" + url[at..] : url;
    }

    /// <summary>The schema version of the database (0 when SharpNas never wrote to it).</summary>
    public long ReadSchemaVersion()
    {
        using NpgsqlConnection c = _source.OpenConnection();
        return ReadVersion(c, null);
    }

    private static long ReadVersion(NpgsqlConnection c, NpgsqlTransaction? tx)
    {
        using var exists = new NpgsqlCommand("SELECT to_regclass('sharpnas_schema') IS NOT NULL", c, tx);
        if (!(bool)exists.ExecuteScalar()!) return 0;
        using var cmd = new NpgsqlCommand("SELECT version FROM sharpnas_schema", c, tx);
        return cmd.ExecuteScalar() is int v ? v : 0;
    }

    private void Migrate()
    {
        using NpgsqlConnection c = _source.OpenConnection();
        using NpgsqlTransaction tx = c.BeginTransaction();
        using (var lockCmd = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({MigrationLock})", c, tx)) lockCmd.ExecuteNonQuery();
        long version = ReadVersion(c, tx);
        if (version > SchemaVersion)
            throw new InvalidDataException($"{Location}: trial store schema version {version} is newer than this SharpNas supports ({SchemaVersion}); use a newer sharpnas");
        if (version == 0)
            using (var create = new NpgsqlCommand("CREATE TABLE IF NOT EXISTS sharpnas_schema (version INTEGER NOT NULL); INSERT INTO sharpnas_schema VALUES (0);", c, tx))
                create.ExecuteNonQuery();
        for (long v = version; v < SchemaVersion; v++)
            using (var step = new NpgsqlCommand(Migrations[v] + $"\nUPDATE sharpnas_schema SET version = {v + 1};", c, tx))
                step.ExecuteNonQuery();
        tx.Commit();
    }

    /// <inheritdoc/>
    public Trial? Find(string key) => QueryOne("SELECT * FROM trials WHERE search_id = @s AND key = @k", ("k", key));

    /// <inheritdoc/>
    public Trial GetOrAdd(string key, string role, JsonObject genotype, JsonObject config, string? artifactDir = null)
    {
        Execute("""
            INSERT INTO trials (search_id, key, role, genotype, config, status, artifact_dir) VALUES (@s, @k, @r, @g, @c, 'queued', @d)
            ON CONFLICT (search_id, key) DO NOTHING
            """, ("k", key), ("r", role), ("g", genotype.ToJsonString()), ("c", config.ToJsonString()), ("d", (object?)artifactDir ?? DBNull.Value));
        return Find(key)!;
    }

    /// <inheritdoc/>
    public Trial Start(string key, string artifactDir) =>
        Update(key, "status = 'running', attempts = attempts + 1, artifact_dir = @a, error = NULL, started_utc = COALESCE(started_utc, now())", ("a", artifactDir));

    /// <inheritdoc/>
    public Trial Complete(string key, JsonObject metrics) =>
        Update(key, "status = 'completed', metrics = @m, error = NULL, lease_expires = NULL, finished_utc = now()", ("m", metrics.ToJsonString()));

    /// <inheritdoc/>
    public Trial Fail(string key, string error) =>
        Update(key, "status = 'failed', error = @e, lease_expires = NULL, finished_utc = now()", ("e", error));

    /// <inheritdoc/>
    public Trial Prune(string key, JsonObject metrics) =>
        Update(key, "status = 'pruned', metrics = @m, lease_expires = NULL, finished_utc = now()", ("m", metrics.ToJsonString()));

    /// <inheritdoc/>
    public IReadOnlyList<Trial> All() => Query("SELECT * FROM trials WHERE search_id = @s ORDER BY id");

    /// <inheritdoc/>
    public void ReportEpochs(string key, IReadOnlyList<double> validAccuracy) => Execute("""
        INSERT INTO trial_epochs (trial_id, epoch, valid_accuracy)
            SELECT t.id, c.n, c.v FROM trials t, unnest(@values) WITH ORDINALITY AS c(v, n) WHERE t.search_id = @s AND t.key = @k
        ON CONFLICT (trial_id, epoch) DO UPDATE SET valid_accuracy = EXCLUDED.valid_accuracy, reported_utc = now()
        """, ("values", validAccuracy.ToArray()), ("k", key));

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, IReadOnlyList<double>> EpochValues()
    {
        using NpgsqlConnection c = _source.OpenConnection();
        using NpgsqlCommand cmd = Command(c, null,
            "SELECT t.key, e.epoch, e.valid_accuracy FROM trial_epochs e JOIN trials t ON t.id = e.trial_id WHERE t.search_id = @s ORDER BY t.id, e.epoch");
        return TrialRows.Curves(cmd);
    }

    /// <inheritdoc/>
    public SearchRecord SaveSearch(string kind, JsonObject settings, string status = SearchRecord.Running)
    {
        Execute("""
            INSERT INTO searches (id, kind, settings, status) VALUES (@s, @kind, @settings, @status)
            ON CONFLICT (id) DO UPDATE SET kind = @kind, settings = @settings, status = @status, updated_utc = now()
            """, ("kind", kind), ("settings", settings.ToJsonString()), ("status", status));
        return FindSearch(SearchId)!;
    }

    /// <inheritdoc/>
    public SearchRecord? FindSearch(string id) => QuerySearches("SELECT * FROM searches WHERE id = @id", ("id", id)).FirstOrDefault();

    /// <inheritdoc/>
    public IReadOnlyList<SearchRecord> Searches() => QuerySearches("SELECT * FROM searches ORDER BY created_utc, id");

    /// <inheritdoc/>
    public ITrialStore ForSearch(string searchId) => new PostgresTrialStore(_source, Location, searchId);

    /// <inheritdoc/>
    public Trial? Lease(string owner, LeaseOptions options)
    {
        using NpgsqlConnection c = _source.OpenConnection();
        using NpgsqlTransaction tx = c.BeginTransaction(IsolationLevel.ReadCommitted);
        using (NpgsqlCommand fail = Command(c, tx, """
            UPDATE trials SET status = 'failed', lease_expires = NULL, finished_utc = now(), updated_utc = now(),
                error = 'worker ' || COALESCE(lease_owner, '?') || ' stopped heartbeating (attempt ' || attempts || ' of ' || @max || ')' || COALESCE('; last error: ' || error, '')
            WHERE id IN (SELECT id FROM trials WHERE search_id = @s AND status = 'running' AND lease_expires < now() AND attempts >= @max
                         ORDER BY id FOR UPDATE SKIP LOCKED)
            """, ("max", options.MaxAttempts)))
            fail.ExecuteNonQuery();
        Trial? leased;
        using (NpgsqlCommand take = Command(c, tx, """
            UPDATE trials SET status = 'running', attempts = attempts + 1, lease_owner = @o, lease_expires = now() + @lease,
                heartbeat = now(), started_utc = COALESCE(started_utc, now()), updated_utc = now()
            WHERE id = (SELECT id FROM trials WHERE search_id = @s AND (status = 'queued' OR (status = 'running' AND lease_expires < now()))
                        ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING *
            """, ("o", owner), ("lease", options.Lease)))
        using (NpgsqlDataReader r = take.ExecuteReader())
            leased = r.Read() ? Rows.Trial(r) : null;
        tx.Commit();
        return leased;
    }

    /// <inheritdoc/>
    public bool Heartbeat(string key, string owner, TimeSpan lease) => Execute("""
        UPDATE trials SET heartbeat = now(), lease_expires = now() + @lease WHERE search_id = @s AND key = @k AND status = 'running' AND lease_owner = @o
        """, ("lease", lease), ("k", key), ("o", owner)) == 1;

    /// <inheritdoc/>
    public Trial? CompleteLease(string key, string owner, JsonObject metrics, bool pruned = false) => UpdateLeased(key, owner,
        $"status = '{(pruned ? "pruned" : "completed")}', metrics = @m, error = NULL, lease_expires = NULL, finished_utc = now()", ("m", metrics.ToJsonString()));

    /// <inheritdoc/>
    public Trial? FailLease(string key, string owner, string error, int maxAttempts) => UpdateLeased(key, owner, """
        status = CASE WHEN attempts >= @max THEN 'failed' ELSE 'queued' END, error = @e, lease_expires = NULL,
        finished_utc = CASE WHEN attempts >= @max THEN now() ELSE NULL END
        """, ("e", error), ("max", maxAttempts));

    /// <inheritdoc/>
    public void ReleaseLease(string key, string owner) =>
        UpdateLeased(key, owner, "status = 'queued', attempts = GREATEST(attempts - 1, 0), lease_expires = NULL");

    /// <inheritdoc/>
    public void ExpireLease(string key) =>
        Execute("UPDATE trials SET lease_expires = '-infinity' WHERE search_id = @s AND key = @k AND status = 'running'", ("k", key));

    private Trial? UpdateLeased(string key, string owner, string set, params (string, object)[] args) => QueryOne(
        $"UPDATE trials SET {set}, updated_utc = now() WHERE search_id = @s AND key = @k AND status = 'running' AND lease_owner = @o RETURNING *",
        [.. args, ("k", key), ("o", owner)]);

    private Trial Update(string key, string set, params (string, object)[] args) =>
        QueryOne($"UPDATE trials SET {set}, updated_utc = now() WHERE search_id = @s AND key = @k RETURNING *", [.. args, ("k", key)])
        ?? throw new InvalidOperationException($"{Location}: search {SearchId} has no trial with key {key}");

    private NpgsqlCommand Command(NpgsqlConnection c, NpgsqlTransaction? tx, string sql, params (string Name, object Value)[] args)
    {
        var cmd = new NpgsqlCommand(sql, c, tx);
        cmd.Parameters.AddWithValue("s", SearchId);
        foreach ((string name, object value) in args) cmd.Parameters.AddWithValue(name, value);
        return cmd;
    }

    private int Execute(string sql, params (string, object)[] args)
    {
        using NpgsqlConnection c = _source.OpenConnection();
        using NpgsqlCommand cmd = Command(c, null, sql, args);
        return cmd.ExecuteNonQuery();
    }

    private Trial? QueryOne(string sql, params (string, object)[] args) => Query(sql, args).FirstOrDefault();

    private List<Trial> Query(string sql, params (string, object)[] args)
    {
        using NpgsqlConnection c = _source.OpenConnection();
        using NpgsqlCommand cmd = Command(c, null, sql, args);
        return TrialRows.ReadAll(cmd, r => Rows.Trial(r));
    }

    private List<SearchRecord> QuerySearches(string sql, params (string, object)[] args)
    {
        using NpgsqlConnection c = _source.OpenConnection();
        using NpgsqlCommand cmd = Command(c, null, sql, args);
        return TrialRows.ReadAll(cmd, Rows.Search);
    }

    private static DateTime? Time(DbDataReader r, string column)
    {
        int i = r.GetOrdinal(column);
        if (r.IsDBNull(i)) return null;
        DateTime t = r.GetDateTime(i);   // timestamptz arrives as UTC; ±infinity as MinValue/MaxValue
        return t == DateTime.MinValue || t == DateTime.MaxValue ? t : t.ToUniversalTime();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_ownsSource) _source.Dispose();
    }
}
