using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using SharpNas.Search.Trials;

namespace SharpNas.Cli.Commands;

/// <summary>The trial-store options of the search commands (<c>--store</c>, lease settings) and the opening of the
/// store they name: SQLite in the run folder by default, PostgreSQL for a <c>postgres://</c> URL (or
/// <c>SHARPNAS_STORE</c>). The search id is the run folder's name.</summary>
internal sealed class StoreOptions
{
    public Option<string?> Store { get; } = new("--store")
    {
        Description = $"trial store: postgres://user:password@host:port/db (workers can join) or an SQLite file (default RUN/trials.db; env {TrialStores.EnvironmentVariable})",
    };
    public Option<double> LeaseSeconds { get; } = new("--lease-seconds")
    {
        Description = "a trial whose worker stops heartbeating this long is taken over by another", DefaultValueFactory = _ => 60,
    };
    public Option<int> MaxAttempts { get; } = new("--max-attempts") { Description = "attempts after which a trial is marked failed", DefaultValueFactory = _ => 3 };

    /// <summary>Adds the options to a command.</summary>
    public void AddTo(Command command)
    {
        foreach (Option o in new Option[] { Store, LeaseSeconds, MaxAttempts }) command.Options.Add(o);
    }

    /// <summary>The store the user named (option, else environment variable), or null for the default.</summary>
    public string? Spec(ParseResult p) => Named(p.GetValue(Store));

    /// <summary>The option's value, else <c>SHARPNAS_STORE</c>, else null.</summary>
    public static string? Named(string? option)
    {
        if (!string.IsNullOrWhiteSpace(option)) return option;
        string? env = Environment.GetEnvironmentVariable(TrialStores.EnvironmentVariable);
        return string.IsNullOrWhiteSpace(env) ? null : env;
    }

    /// <summary>The lease settings given.</summary>
    public LeaseOptions Lease(ParseResult p)
    {
        var lease = new LeaseOptions { Lease = TimeSpan.FromSeconds(p.GetValue(LeaseSeconds)), MaxAttempts = p.GetValue(MaxAttempts) };
        lease.Validate();
        return lease;
    }

    /// <summary>Opens the store of the search in <paramref name="runDir"/> and records the search row (kind, settings
    /// — with the lease settings added — and status running).</summary>
    public ITrialStore Open(ParseResult p, string runDir, string kind, JsonObject? settings = null)
    {
        string searchId = SearchId(runDir);
        string? spec = Spec(p);
        ITrialStore store = spec is null ? new SqliteTrialStore(Path.Combine(runDir, "trials.db"), searchId) : TrialStores.Open(spec, searchId);
        try
        {
            JsonObject row = settings?.DeepClone().AsObject() ?? [];
            if (store.FindSearch(searchId) is SearchRecord existing && !SameSettings(existing, kind, row))
                throw new InvalidDataException($"{store.Location}: search {searchId} was started as {existing.Kind} with other settings "
                    + $"({Without(existing.Settings, "lease").ToJsonString()}); rerun it with those, or use another --out");
            RunFolderStore.Record(runDir, spec, searchId);   // where sharpnas report finds the trials
            row["lease"] = Lease(p).ToJson();
            if (store.FindSearch(searchId)?.Settings[Search.Pruning.Pruners.SettingName] is JsonNode prune)
                row[Search.Pruning.Pruners.SettingName] = prune.DeepClone();   // until the command records its own (workers keep pruning)
            store.SaveSearch(kind, row);
            return store;
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    // The lease and pruning settings may change when a search is rerun; the others define the search.
    private static bool SameSettings(SearchRecord existing, string kind, JsonObject settings) =>
        existing.Kind == kind && Without(existing.Settings, "lease").ToJsonString() == Without(settings, "lease").ToJsonString();

    private static JsonObject Without(JsonObject o, string name)
    {
        JsonObject copy = o.DeepClone().AsObject();
        copy.Remove(name);
        copy.Remove(Search.Pruning.Pruners.SettingName);
        return copy;
    }

    /// <summary>Marks the store's search finished (workers stop looking at it).</summary>
    public static void Finish(ITrialStore store)
    {
        SearchRecord? row = store.FindSearch(store.SearchId);
        if (row is not null) store.SaveSearch(row.Kind, row.Settings, SearchRecord.Finished);
    }

    /// <summary>Writes the run folder's <c>report.html</c> from the search's trials in <paramref name="store"/> (SQLite or
    /// PostgreSQL). Returns the file names written, for the closing line.</summary>
    public static string WriteReport(string dir, ITrialStore store, ParseResult p)
    {
        Search.Reports.SearchRunReport.Write(dir, command: "sharpnas " + string.Join(' ', p.Tokens.Select(t => TrialStores.IsPostgres(t.Value) ? PostgresTrialStore.Redact(t.Value) : t.Value)),
            store: store);   // no password in the page
        return ", report.html";
    }

    /// <summary>The search id of a run folder: its name.</summary>
    public static string SearchId(string runDir) => Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(runDir)));

    /// <summary>"12 s ago" style age of a time.</summary>
    public static string Age(DateTime? utc) => utc is DateTime t
        ? Math.Max(0, (DateTime.UtcNow - t).TotalSeconds).ToString("F0", CultureInfo.InvariantCulture) + " s ago" : "–";
}
