using System.Data.Common;
using System.Text.Json.Nodes;

namespace SharpNas.Search.Trials;

/// <summary>
/// Shared reading of the rows of both stores' <c>trials</c>, <c>searches</c> and <c>trial_epochs</c> tables: the
/// columns are the same but for the names of two lease columns and how times are stored, which each store says.
/// </summary>
/// <param name="leaseExpiresColumn">The column of the lease's end (<c>lease_expires</c> or <c>lease_expires_utc</c>).</param>
/// <param name="heartbeatColumn">The column of the last heartbeat (<c>heartbeat</c> or <c>heartbeat_utc</c>).</param>
/// <param name="time">Reads a time column as UTC (null for NULL).</param>
internal sealed class TrialRows(string leaseExpiresColumn, string heartbeatColumn, Func<DbDataReader, string, DateTime?> time)
{
    /// <summary>The trial in the reader's current row; its search is <paramref name="searchId"/>, or the row's
    /// <c>search_id</c> when null.</summary>
    public Trial Trial(DbDataReader r, string? searchId = null) => new()
    {
        Id = r.GetInt64(r.GetOrdinal("id")),
        SearchId = searchId ?? r.GetString(r.GetOrdinal("search_id")),
        Key = r.GetString(r.GetOrdinal("key")),
        Role = r.GetString(r.GetOrdinal("role")),
        Genotype = JsonNode.Parse(r.GetString(r.GetOrdinal("genotype")))!.AsObject(),
        Config = JsonNode.Parse(r.GetString(r.GetOrdinal("config")))!.AsObject(),
        Status = Enum.Parse<TrialStatus>(r.GetString(r.GetOrdinal("status")), ignoreCase: true),
        Metrics = Text(r, "metrics") is string m ? JsonNode.Parse(m)!.AsObject() : null,
        ArtifactDir = Text(r, "artifact_dir"),
        Attempts = r.GetInt32(r.GetOrdinal("attempts")),
        Error = Text(r, "error"),
        LeaseOwner = Text(r, "lease_owner"),
        LeaseExpiresUtc = time(r, leaseExpiresColumn),
        HeartbeatUtc = time(r, heartbeatColumn),
        CreatedUtc = time(r, "created_utc")!.Value,
        UpdatedUtc = time(r, "updated_utc")!.Value,
        StartedUtc = time(r, "started_utc"),
        FinishedUtc = time(r, "finished_utc"),
    };

    /// <summary>The search in the reader's current row.</summary>
    public SearchRecord Search(DbDataReader r) => new()
    {
        Id = r.GetString(r.GetOrdinal("id")),
        Kind = r.GetString(r.GetOrdinal("kind")),
        Settings = JsonNode.Parse(r.GetString(r.GetOrdinal("settings")))!.AsObject(),
        Status = r.GetString(r.GetOrdinal("status")),
        CreatedUtc = time(r, "created_utc")!.Value,
        UpdatedUtc = time(r, "updated_utc")!.Value,
    };

    /// <summary>A text column, null for NULL.</summary>
    public static string? Text(DbDataReader r, string column)
    {
        int i = r.GetOrdinal(column);
        return r.IsDBNull(i) ? null : r.GetString(i);
    }

    /// <summary>Runs <paramref name="cmd"/> and reads every row it returns with <paramref name="read"/>.</summary>
    public static List<T> ReadAll<T>(DbCommand cmd, Func<DbDataReader, T> read)
    {
        using DbDataReader r = cmd.ExecuteReader();
        var list = new List<T>();
        while (r.Read()) list.Add(read(r));
        return list;
    }

    /// <summary>Runs <paramref name="cmd"/>, a query of (key, epoch, valid_accuracy) ordered by trial and epoch, and
    /// returns the curves (<see cref="TrialEpochs.Curves"/>).</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<double>> Curves(DbCommand cmd) =>
        TrialEpochs.Curves(ReadAll(cmd, r => (r.GetString(0), r.GetInt32(1), r.GetDouble(2))));
}
