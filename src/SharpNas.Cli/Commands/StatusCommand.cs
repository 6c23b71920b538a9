using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;
using SharpNas.Search.Trials;

namespace SharpNas.Cli.Commands;

/// <summary><c>sharpnas status --store … [--watch]</c>: the store's searches with their trials per status, and the
/// workers (lease owners) with what they run, what they completed and their last heartbeat.</summary>
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

    /// <summary>The two tables of the store as it is now.</summary>
    private static IRenderable Render(ITrialStore db)
    {
        var searches = new Table().Title($"searches in {Markup.Escape(db.Location)}");
        foreach (string c in new[] { "search", "kind", "status", "queued", "running", "completed", "failed", "pruned", "total" }) searches.AddColumn(c);
        var workers = new Table().Title("workers (lease owners)");
        foreach (string c in new[] { "worker", "search", "running", "completed", "attempts", "last heartbeat" }) workers.AddColumn(c);
        IReadOnlyList<SearchRecord> rows = db.Searches();
        if (rows.Count == 0 && db.All().Count > 0) rows = [new SearchRecord { Id = db.SearchId, Kind = "?" }];
        foreach (SearchRecord s in rows)
        {
            using ITrialStore store = db.ForSearch(s.Id);
            IReadOnlyList<Trial> trials = store.All();
            string Count(TrialStatus status) => trials.Count(t => t.Status == status).ToString(CultureInfo.InvariantCulture);
            searches.AddRow(Markup.Escape(s.Id), Markup.Escape(s.Kind), s.Status, Count(TrialStatus.Queued), Count(TrialStatus.Running),
                Count(TrialStatus.Completed), Count(TrialStatus.Failed), Count(TrialStatus.Pruned), trials.Count.ToString(CultureInfo.InvariantCulture));
            foreach (var g in trials.Where(t => t.LeaseOwner is not null).GroupBy(t => t.LeaseOwner!).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                string running = string.Join(", ", g.Where(t => t.Status == TrialStatus.Running).Select(t => t.Key));
                DateTime? beat = g.Max(t => t.HeartbeatUtc);
                workers.AddRow(Markup.Escape(g.Key), Markup.Escape(s.Id), running.Length > 0 ? Markup.Escape(running) : "–",
                    g.Count(t => t.Status == TrialStatus.Completed).ToString(CultureInfo.InvariantCulture),
                    g.Sum(t => t.Attempts).ToString(CultureInfo.InvariantCulture), StoreOptions.Age(beat));
            }
        }
        return new Rows(searches, workers);
    }
}
