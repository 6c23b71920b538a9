using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Rendering;
using SharpNas.Search.Trials;

namespace SharpNas.Cli.Commands;

/// <summary><c>sharpnas status --store … [--watch]</c>: the store's searches with their trials per status; the workers
/// (lease owners) with what they run (and the epoch it reported), what they completed and their last heartbeat; and the
/// pruned trials with the epoch they reached.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var store = new Option<string?>("--store") { Description = $"trial store: postgres://user:password@host:port/db or an SQLite file (env {TrialStores.EnvironmentVariable})" };
        var watch = new Option<bool>("--watch") { Description = "refresh until Ctrl-C" };
        var interval = new Option<double>("--interval") { Description = "seconds between refreshes with --watch", DefaultValueFactory = _ => 2 };
        var cmd = new Command("status", "show the searches and workers of a trial store") { store, watch, interval };
        cmd.SetAction(p => CommandRunner.Run(cancel =>
        {
            string spec = StoreOptions.Named(p.GetValue(store)) ?? throw new ArgumentException($"status: give --store (or set {TrialStores.EnvironmentVariable})");
            if (!(p.GetValue(interval) > 0)) throw new ArgumentException($"--interval must be positive, got {p.GetValue(interval)}");
            using ITrialStore db = TrialStores.OpenDatabase(spec);
            if (!p.GetValue(watch))
            {
                AnsiConsole.Write(Render(db));
                return ExitCodes.Ok;
            }
            TimeSpan period = TimeSpan.FromSeconds(p.GetValue(interval));
            if (Console.IsOutputRedirected)
            {
                while (!cancel.IsCancellationRequested)
                {
                    AnsiConsole.Write(Render(db));
                    cancel.WaitHandle.WaitOne(period);
                }
            }
            else
            {
                AnsiConsole.Live(Render(db)).Start(ctx =>
                {
                    while (!cancel.WaitHandle.WaitOne(period)) ctx.UpdateTarget(Render(db));
                });
            }
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    /// <summary>Pruned trials listed at most (the latest).</summary>
    private const int PrunedShown = 20;

    /// <summary>The tables of the store as it is now.</summary>
    private static IRenderable Render(ITrialStore db)
    {
        var searches = new Table().Title($"searches in {Markup.Escape(db.Location)}");
        foreach (string c in new[] { "search", "kind", "status", "queued", "running", "completed", "failed", "pruned", "total" }) searches.AddColumn(c);
        var workers = new Table().Title("workers (lease owners)");
        foreach (string c in new[] { "worker", "search", "running (epoch reported)", "completed", "attempts", "last heartbeat" }) workers.AddColumn(c);
        var pruned = new List<(SearchRecord Search, Trial Trial)>();
        IReadOnlyList<SearchRecord> rows = db.Searches();
        if (rows.Count == 0 && db.All().Count > 0) rows = [new SearchRecord { Id = db.SearchId, Kind = "?" }];
        foreach (SearchRecord s in rows)
        {
            using ITrialStore store = db.ForSearch(s.Id);
            IReadOnlyList<Trial> trials = store.All();
            IReadOnlyDictionary<string, IReadOnlyList<double>> epochs = store.EpochValues();
            pruned.AddRange(trials.Where(t => t.Status == TrialStatus.Pruned).Select(t => (s, t)));
            string Count(TrialStatus status) => trials.Count(t => t.Status == status).ToString(CultureInfo.InvariantCulture);
            searches.AddRow(Markup.Escape(s.Id), Markup.Escape(s.Kind), s.Status, Count(TrialStatus.Queued), Count(TrialStatus.Running),
                Count(TrialStatus.Completed), Count(TrialStatus.Failed), Count(TrialStatus.Pruned), trials.Count.ToString(CultureInfo.InvariantCulture));
            foreach (var g in trials.Where(t => t.LeaseOwner is not null).GroupBy(t => t.LeaseOwner!).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                string running = string.Join(", ", g.Where(t => t.Status == TrialStatus.Running).Select(t => t.Key + Progress(t, epochs)));
                DateTime? beat = g.Max(t => t.HeartbeatUtc);
                workers.AddRow(Markup.Escape(g.Key), Markup.Escape(s.Id), running.Length > 0 ? Markup.Escape(running) : "–",
                    g.Count(t => t.Status == TrialStatus.Completed).ToString(CultureInfo.InvariantCulture),
                    g.Sum(t => t.Attempts).ToString(CultureInfo.InvariantCulture), StoreOptions.Age(beat));
            }
        }
        if (pruned.Count == 0) return new Rows(searches, workers);
        var prunedTable = new Table().Title(pruned.Count > PrunedShown ? $"pruned trials (the latest {PrunedShown} of {pruned.Count})" : "pruned trials");
        foreach (string c in new[] { "search", "trial", "epoch reached", "validation accuracy", "why" }) prunedTable.AddColumn(c);
        foreach ((SearchRecord s, Trial t) in pruned.OrderBy(p => p.Trial.FinishedUtc).ThenBy(p => p.Trial.Id).TakeLast(PrunedShown))
        {
            JsonObject? m = t.Metrics;
            string reached = m?["epochs_reached"] is JsonNode r ? r.ToJsonString() + (m["epochs"] is JsonNode e ? " of " + e.ToJsonString() : "") : "–";
            string accuracy = m?["validation_accuracy"] is JsonValue v && v.TryGetValue(out double a) ? a.ToString("P2", CultureInfo.InvariantCulture) : "–";
            prunedTable.AddRow(Markup.Escape(s.Id), Markup.Escape(t.Key), reached, accuracy, Markup.Escape(m?["prune_reason"]?.GetValue<string>() ?? "–"));
        }
        return new Rows(searches, workers, prunedTable);
    }

    /// <summary>" (epoch 2 of 5)" for a running trial that reported epochs, else "".</summary>
    private static string Progress(Trial t, IReadOnlyDictionary<string, IReadOnlyList<double>> epochs)
    {
        if (!epochs.TryGetValue(t.Key, out IReadOnlyList<double>? curve)) return "";
        string of = t.Config["epochs"] is JsonValue e ? " of " + e.ToJsonString() : "";
        return string.Create(CultureInfo.InvariantCulture, $" (epoch {curve.Count}{of}: {curve[^1]:P2})");
    }
}
