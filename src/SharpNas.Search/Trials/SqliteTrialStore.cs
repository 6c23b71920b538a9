using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;

namespace SharpNas.Search.Trials;

/// <summary>
/// The trial store in an SQLite file (default <c>RUN/trials.db</c>), in WAL mode with a busy timeout so that
/// several local processes can share it. Table <c>trials</c>: id, key (unique), role, genotype, config, status
/// (<c>queued</c>, <c>running</c>, <c>completed</c>, <c>failed</c>, <c>pruned</c>), metrics, artifact_dir,
/// attempts, error, created_utc, updated_utc; JSON columns hold JSON text. Schema version in <c>PRAGMA user_version</c>.
/// </summary>
public sealed class SqliteTrialStore : ITrialStore
{
    private const int SchemaVersion = 1;
    private readonly SqliteConnection _db;

    /// <summary>The database file.</summary>
    public string Path { get; }

    /// <summary>Opens (creating if needed) the store at <paramref name="path"/>.</summary>
    public SqliteTrialStore(string path)
    {
        Path = path;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        _db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        _db.Open();
        Execute("PRAGMA journal_mode=WAL; PRAGMA busy_timeout=10000; PRAGMA synchronous=NORMAL;");
        long version = Scalar<long>("PRAGMA user_version");
        if (version > SchemaVersion)
            throw new InvalidDataException($"{path}: trial store schema version {version} is newer than this SharpNas ({SchemaVersion})");
        if (version < 1)
        {
            Execute("""
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
                PRAGMA user_version = 1;
                """);
        }
    }

    /// <inheritdoc/>
    public Trial? Find(string key)
    {
        using SqliteCommand cmd = Command("SELECT * FROM trials WHERE key = $key", ("$key", key));
        using SqliteDataReader r = cmd.ExecuteReader();
        return r.Read() ? Read(r) : null;
    }

    /// <inheritdoc/>
    public Trial GetOrAdd(string key, string role, JsonObject genotype, JsonObject config)
    {
        string now = Now();
        using (SqliteCommand cmd = Command("""
            INSERT INTO trials (key, role, genotype, config, status, created_utc, updated_utc)
            VALUES ($key, $role, $genotype, $config, 'queued', $now, $now) ON CONFLICT(key) DO NOTHING
            """, ("$key", key), ("$role", role), ("$genotype", genotype.ToJsonString()), ("$config", config.ToJsonString()), ("$now", now)))
            cmd.ExecuteNonQuery();
        return Find(key)!;
    }

    /// <inheritdoc/>
    public Trial Start(string key, string artifactDir) =>
        Update(key, "status = 'running', attempts = attempts + 1, artifact_dir = $a, error = NULL", ("$a", artifactDir));

    /// <inheritdoc/>
    public Trial Complete(string key, JsonObject metrics) =>
        Update(key, "status = 'completed', metrics = $m, error = NULL", ("$m", metrics.ToJsonString()));

    /// <inheritdoc/>
    public Trial Prune(string key, JsonObject metrics) =>
        Update(key, "status = 'pruned', metrics = $m, error = NULL", ("$m", metrics.ToJsonString()));

    /// <inheritdoc/>
    public Trial Fail(string key, string error) => Update(key, "status = 'failed', error = $e", ("$e", error));

    /// <inheritdoc/>
    public IReadOnlyList<Trial> All()
    {
        using SqliteCommand cmd = Command("SELECT * FROM trials ORDER BY id");
        using SqliteDataReader r = cmd.ExecuteReader();
        var list = new List<Trial>();
        while (r.Read()) list.Add(Read(r));
        return list;
    }

    private Trial Update(string key, string set, params (string, object)[] args)
    {
        using SqliteCommand cmd = Command($"UPDATE trials SET {set}, updated_utc = $now WHERE key = $key", [.. args, ("$key", key), ("$now", Now())]);
        if (cmd.ExecuteNonQuery() != 1) throw new InvalidOperationException($"{Path}: no trial with key {key}");
        return Find(key)!;
    }

    private static Trial Read(SqliteDataReader r) => new()
    {
        Id = r.GetInt64(r.GetOrdinal("id")),
        Key = r.GetString(r.GetOrdinal("key")),
        Role = r.GetString(r.GetOrdinal("role")),
        Genotype = JsonNode.Parse(r.GetString(r.GetOrdinal("genotype")))!.AsObject(),
        Config = JsonNode.Parse(r.GetString(r.GetOrdinal("config")))!.AsObject(),
        Status = Enum.Parse<TrialStatus>(r.GetString(r.GetOrdinal("status")), ignoreCase: true),
        Metrics = r.IsDBNull(r.GetOrdinal("metrics")) ? null : JsonNode.Parse(r.GetString(r.GetOrdinal("metrics")))!.AsObject(),
        ArtifactDir = r.IsDBNull(r.GetOrdinal("artifact_dir")) ? null : r.GetString(r.GetOrdinal("artifact_dir")),
        Attempts = r.GetInt32(r.GetOrdinal("attempts")),
        Error = r.IsDBNull(r.GetOrdinal("error")) ? null : r.GetString(r.GetOrdinal("error")),
        CreatedUtc = DateTime.Parse(r.GetString(r.GetOrdinal("created_utc")), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
        UpdatedUtc = DateTime.Parse(r.GetString(r.GetOrdinal("updated_utc")), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
    };

    private static string Now() => DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture);

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
