using System.CommandLine;
using System.Globalization;
using SharpNas.Search.Spaces;
using SharpNas.Search.Strategies.Discrete;
using SharpNas.Search.Trials;

namespace SharpNas.Cli.Commands;

/// <summary>
/// <c>sharpnas worker --store … [--threads N] [--artifacts DIR] [--search ID]</c>: a stateless process that leases
/// queued trials of the store's running searches (or of one search), trains them with the settings stored in the
/// search's row, heartbeats while training, writes checkpoints and weights under the artifact folder (shared by all
/// workers, so a trial taken over after its worker died resumes from its checkpoint) and completes them. Runs until
/// Ctrl-C, or until idle for <c>--idle-exit</c> seconds, or — with <c>--search</c> — until that search is finished.
/// </summary>
internal static class WorkerCommand
{
    public static Command Create()
    {
        var store = new Option<string?>("--store") { Description = $"trial store: postgres://user:password@host:port/db or an SQLite file (env {TrialStores.EnvironmentVariable})" };
        var threads = new Option<int?>("--threads") { Description = "training threads" };
        var artifacts = new Option<string?>("--artifacts") { Description = "artifact root shared by all workers (default runs; for an SQLite store, the folder above its run folder)" };
        var search = new Option<string?>("--search") { Description = "work on this search only (default: every running search)" };
        var idleExit = new Option<double?>("--idle-exit") { Description = "exit after this many seconds without a trial to take" };
        var name = new Option<string>("--name") { Description = "worker name in the lease owner host:pid:NAME", DefaultValueFactory = _ => "worker" };
        var cmd = new Command("worker", "take trials from a shared trial store and train them") { store, threads, artifacts, search, idleExit, name };
        cmd.SetAction(p => CommandRunner.Run(cancel =>
        {
            string spec = StoreOptions.Named(p.GetValue(store)) ?? throw new ArgumentException($"worker: give --store (or set {TrialStores.EnvironmentVariable})");
            ThreadSettings.Apply(p.GetValue(threads));
            if (p.GetValue(idleExit) is < 0) throw new ArgumentException($"--idle-exit must be non-negative, got {p.GetValue(idleExit)}");
            string root = p.GetValue(artifacts) ?? (TrialStores.IsPostgres(spec) ? "runs"
                : Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(spec)))!);
            using ITrialStore db = TrialStores.OpenDatabase(spec);
            string? only = p.GetValue(search);
            if (only is not null && db.FindSearch(only) is null)
            {
                string known = string.Join(", ", db.Searches().Select(s => s.Id));
                throw new InvalidDataException($"{db.Location}: no search {only} ({(known.Length > 0 ? "searches there: " + known : "it holds no search")})");
            }
            string owner = TrialWorker.OwnerName(p.GetValue(name)!);
            Console.WriteLine($"worker {owner}: store {db.Location}, artifacts {Path.GetFullPath(root)}{(only is null ? "" : ", search " + only)}");
            var contexts = new Dictionary<string, WorkerContext>(StringComparer.Ordinal);
            DateTime idleSince = DateTime.UtcNow;
            try
            {
                while (true)
                {
                    cancel.ThrowIfCancellationRequested();
                    IReadOnlyList<SearchRecord> searches = only is null
                        ? db.Searches().Where(s => s.Status == SearchRecord.Running && (s.Kind is NasNetChildSettings.Kind or SmokeEvaluator.Kind)).ToList()
                        : [db.FindSearch(only)!];
                    bool worked = false;
                    foreach (SearchRecord s in searches)
                    {
                        if (!contexts.TryGetValue(s.Id, out WorkerContext? ctx))
                            contexts[s.Id] = ctx = new WorkerContext(db.ForSearch(s.Id), s, root, owner);
                        if (ctx.Worker.RunOne(ctx.Evaluate, cancel) is not null) { worked = true; break; }
                    }
                    if (worked) { idleSince = DateTime.UtcNow; continue; }
                    if (only is not null && searches[0].Status == SearchRecord.Finished && NothingLeft(contexts, only, db))
                    {
                        Console.WriteLine($"worker {owner}: search {only} is finished");
                        return ExitCodes.Ok;
                    }
                    if (p.GetValue(idleExit) is double idle && (DateTime.UtcNow - idleSince).TotalSeconds >= idle)
                    {
                        Console.WriteLine($"worker {owner}: idle for {idle.ToString(CultureInfo.InvariantCulture)} s, exiting ({contexts.Values.Sum(c => c.Worker.Completed)} trials completed)");
                        return ExitCodes.Ok;
                    }
                    cancel.WaitHandle.WaitOne(searches.Count > 0 ? searches.Min(s => s.Lease.Poll) : TimeSpan.FromSeconds(1));
                }
            }
            finally
            {
                foreach (WorkerContext c in contexts.Values) c.Store.Dispose();
            }
        }));
        return cmd;
    }

    private static bool NothingLeft(Dictionary<string, WorkerContext> contexts, string id, ITrialStore db)
    {
        using ITrialStore store = db.ForSearch(id);
        return store.All().All(t => t.Status is not (TrialStatus.Queued or TrialStatus.Running));
    }

    /// <summary>One search as a worker sees it: its store, the evaluator rebuilt from its row, the lease loop.</summary>
    private sealed class WorkerContext
    {
        private readonly IDiscreteEvaluator _evaluator;
        private readonly IDiscreteSpace _space;

        public ITrialStore Store { get; }
        public TrialWorker Worker { get; }

        public WorkerContext(ITrialStore store, SearchRecord search, string artifactRoot, string owner)
        {
            Store = store;
            (_evaluator, _space, _) = DiscreteTrialEvaluators.Create(search, artifactRoot, store);   // prunes as the search row says
            Worker = new TrialWorker(store, search.Lease, owner);
            Worker.Leased += t => Console.WriteLine($"{search.Id} {t.Key}: leased (attempt {t.Attempts}) {t.Genotype["key"]}");
            Worker.Ended += t => Console.WriteLine(t.Status == TrialStatus.Completed && t.LeaseOwner == owner
                ? string.Create(CultureInfo.InvariantCulture, $"{search.Id} {t.Key}: completed, reward {t.Metrics?["reward"]?.GetValue<double>():F4}")
                : t.Status == TrialStatus.Pruned && t.LeaseOwner == owner
                ? $"{search.Id} {t.Key}: pruned after epoch {t.Metrics?["epochs_reached"]}: {t.Metrics?["prune_reason"]?.GetValue<string>()}"
                : $"{search.Id} {t.Key}: {t.Status.ToString().ToLowerInvariant()}{(t.Error is null ? "" : ": " + t.Error)}");
        }

        public System.Text.Json.Nodes.JsonObject Evaluate(Trial trial, CancellationToken cancel) => DiscreteSearch.EvaluateTrial(_evaluator, _space, trial, cancel);
    }
}
