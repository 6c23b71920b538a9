namespace SharpNas.Search.Trials;

/// <summary>Opens a trial store from the form the user gives: <c>postgres://user:password@host:port/db</c> (or
/// <c>postgresql://…</c>), or the path of an SQLite file.</summary>
public static class TrialStores
{
    /// <summary>The environment variable read when no <c>--store</c> is given.</summary>
    public const string EnvironmentVariable = "SHARPNAS_STORE";

    /// <summary>The search id of a store opened without one.</summary>
    public const string DefaultSearchId = "default";

    /// <summary>True for a PostgreSQL URL.</summary>
    public static bool IsPostgres(string spec) =>
        spec.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || spec.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase);

    /// <summary>Opens <paramref name="spec"/> bound to search <paramref name="searchId"/>.</summary>
    public static ITrialStore Open(string spec, string searchId)
    {
        if (string.IsNullOrWhiteSpace(spec)) throw new ArgumentException("--store: empty; expected postgres://user:password@host:port/db or an SQLite file path");
        return IsPostgres(spec) ? new PostgresTrialStore(spec, searchId) : new SqliteTrialStore(spec, searchId);
    }

    /// <summary>Opens the database of <paramref name="spec"/> to look at its searches: for an SQLite file, bound to its
    /// one search (if any); for PostgreSQL, to none in particular.</summary>
    public static ITrialStore OpenDatabase(string spec)
    {
        if (IsPostgres(spec)) return new PostgresTrialStore(spec, DefaultSearchId);
        if (!File.Exists(spec)) throw new FileNotFoundException($"--store {spec}: no such SQLite trial store");
        var store = new SqliteTrialStore(spec);
        IReadOnlyList<SearchRecord> searches = store.Searches();
        if (searches.Count == 0 || searches[0].Id == DefaultSearchId) return store;
        store.Dispose();
        return new SqliteTrialStore(spec, searches[0].Id);
    }
}
