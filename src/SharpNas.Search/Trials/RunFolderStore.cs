using System.Text.Json;
using System.Text.Json.Nodes;
using SharpNas.Training;

namespace SharpNas.Search.Trials;

/// <summary>
/// Where the trials of a search run folder are: <c>RUN/trials.db</c> by default; for a search given <c>--store</c>,
/// the store named in <c>RUN/store.json</c> (<c>{"store": "postgres://user@host:port/db", "search": "ID"}</c>: a
/// PostgreSQL URL without its password, or the SQLite file's full path), so that <c>sharpnas report RUN</c> reads
/// them through <see cref="ITrialStore"/> like any other process. The password is never written: it is taken from
/// <c>SHARPNAS_STORE</c> when that names the same server, database and user; otherwise Npgsql's own sources apply
/// (<c>PGPASSWORD</c>, <c>~/.pgpass</c>) or the server needs none.
/// </summary>
public static class RunFolderStore
{
    /// <summary>The file naming the store of a run folder whose trials are not in <see cref="DefaultFile"/>.</summary>
    public const string FileName = "store.json";

    /// <summary>The default SQLite store of a run folder.</summary>
    public const string DefaultFile = "trials.db";

    /// <summary>Records in <paramref name="runDir"/> that search <paramref name="searchId"/> keeps its trials in
    /// <paramref name="spec"/> (null: the default <c>RUN/trials.db</c>, and a stale <c>store.json</c> is removed).</summary>
    public static void Record(string runDir, string? spec, string searchId)
    {
        string path = Path.Combine(runDir, FileName);
        if (spec is null)
        {
            File.Delete(path);
            return;
        }
        string stored = TrialStores.IsPostgres(spec) ? WithoutPassword(spec) : Path.GetFullPath(spec);
        var json = new JsonObject { ["store"] = stored, ["search"] = searchId };
        TrainingRun.WriteAtomically(path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>True when <paramref name="runDir"/> names a trial store (it is a search run folder).</summary>
    public static bool Exists(string runDir) => File.Exists(Path.Combine(runDir, FileName)) || File.Exists(Path.Combine(runDir, DefaultFile));

    /// <summary>Opens the trial store of <paramref name="runDir"/>, or null when it has none. A store that cannot be
    /// reached or a bad <c>store.json</c> is an <see cref="InvalidDataException"/> (one line).</summary>
    public static ITrialStore? Open(string runDir)
    {
        string link = Path.Combine(runDir, FileName);
        if (!File.Exists(link))
        {
            string db = Path.Combine(runDir, DefaultFile);
            return File.Exists(db) ? new SqliteTrialStore(db) : null;
        }
        string spec, search;
        try
        {
            JsonObject o = JsonNode.Parse(File.ReadAllText(link))!.AsObject();
            spec = o["store"]!.GetValue<string>();
            search = o["search"]!.GetValue<string>();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException)
        {
            throw new InvalidDataException($"{link}: expected {{\"store\": URL or path, \"search\": ID}} ({e.Message})");
        }
        if (TrialStores.IsPostgres(spec)) return new PostgresTrialStore(WithPasswordFromEnvironment(spec), search);
        if (!File.Exists(spec)) throw new InvalidDataException($"{link}: the trials of search {search} were in {spec}, which does not exist");
        return new SqliteTrialStore(spec, search);
    }

    /// <summary><c>postgres://user:password@host…</c> without <c>:password</c>.</summary>
    public static string WithoutPassword(string url)
    {
        int scheme = url.IndexOf("://", StringComparison.Ordinal), at = url.LastIndexOf('@');
        if (scheme < 0 || at < 0) return url;
        int colon = url.IndexOf(':', scheme + 3);
        return colon >= 0 && colon < at ? url[..colon] + url[at..] : url;
    }

    /// <summary><paramref name="url"/>, or <c>SHARPNAS_STORE</c> when that names the same host, port, database and user
    /// (and so carries the password).</summary>
    public static string WithPasswordFromEnvironment(string url) => WithPassword(url, Environment.GetEnvironmentVariable(TrialStores.EnvironmentVariable));

    /// <summary><paramref name="url"/>, or <paramref name="candidate"/> when that is a PostgreSQL URL of the same host,
    /// port, database and user.</summary>
    public static string WithPassword(string url, string? candidate)
    {
        if (string.IsNullOrWhiteSpace(candidate) || !TrialStores.IsPostgres(candidate)) return url;
        try
        {
            var a = PostgresTrialStore.ParseUrl(url);
            var b = PostgresTrialStore.ParseUrl(candidate);
            bool same = string.Equals(a.Host, b.Host, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port && a.Database == b.Database && a.Username == b.Username;
            return same ? candidate : url;
        }
        catch (ArgumentException) { return url; }
    }
}
