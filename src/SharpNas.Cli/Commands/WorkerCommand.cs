using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using SharpNas.Data;
using SharpNas.Search.Spaces;
using SharpNas.Search.Strategies.Discrete;
using SharpNas.Search.Strategies.Epnas;
using SharpNas.Search.Strategies.StageWise;
using SharpNas.Search.Pruning;
using SharpNas.Search.Trials;
using SharpNas.Training;

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
        var parent = new Option<int?>("--parent-pid") { Description = "exit once this process is gone (set by a search's --workers)", Hidden = true };
        var cmd = new Command("worker", "take trials from a shared trial store and train them") { store, threads, artifacts, search, idleExit, name, parent };
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
            if (only is not null && db.FindSearch(only) is SearchRecord one && !Leasable(one))
                throw new InvalidDataException($"{db.Location}: search {only} ({one.Kind}) trains its trials itself; start it with --store or --workers to share them with workers");
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
                        ? db.Searches().Where(s => s.Status == SearchRecord.Running && Leasable(s)).ToList()
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
                    // A local worker of a search (--workers) whose coordinator was killed: the rerun starts its own.
                    if (p.GetValue(parent) is int ppid && !ProcessAlive(ppid))
                    {
                        Console.WriteLine($"worker {owner}: its coordinator (pid {ppid}) is gone, exiting");
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

    /// <summary>Whether workers can evaluate the trials of <paramref name="search"/>: a NASNet or smoke search, or an
    /// EPNAS or stage-wise search started with a store or workers (its row then holds the settings workers need; a
    /// single-process one holds none).</summary>
    private static bool Leasable(SearchRecord search) => search.Kind switch
    {
        NasNetChildSettings.Kind or SmokeEvaluator.Kind => true,
        EpnasChildSettings.Kind or StageWiseTrialSettings.Kind => search.Settings["data"] is not null,
        _ => false,
    };

    /// <summary>What a worker runs on a leased trial of <paramref name="search"/>, rebuilt from the search's row.</summary>
    private static Func<Trial, CancellationToken, JsonObject> Evaluation(ITrialStore store, SearchRecord search, string artifactRoot)
    {
        string where = $"search {search.Id}";
        switch (search.Kind)
        {
            case EpnasChildSettings.Kind:
            {
                EpnasChildSettings settings = EpnasChildSettings.FromJson(search.Settings, where);
                (DataSpec spec, TrainingData data) = settings.LoadData();
                // Children report their epochs and are pruned as the search row's prune setting says (as NASNet's).
                var evaluator = settings.CreateEvaluator(spec, data, TrialPruning.FollowingSearch(store));
                return (t, c) => LeasedTrialRunner.EvaluateTrial(evaluator, store, artifactRoot, t, c);
            }
            case StageWiseTrialSettings.Kind:
            {
                StageWiseTrialSettings settings = StageWiseTrialSettings.FromJson(search.Settings, where);
                (DataSpec spec, TrainingData data) = settings.LoadData();
                var evaluator = settings.CreateEvaluator(spec, data, epochs: 1, StageScorers.Create(settings.Criterion, settings.Seed));
                return (t, c) => LeasedTrialRunner.EvaluateTrial(evaluator, store, artifactRoot, t, c);
            }
            default:
            {
                (IDiscreteEvaluator evaluator, IDiscreteSpace space, _) = DiscreteTrialEvaluators.Create(search, artifactRoot, store);   // prunes as the search row says
                return (t, c) => DiscreteSearch.EvaluateTrial(evaluator, space, t, c);
            }
        }
    }

    private static bool ProcessAlive(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    private static bool NothingLeft(Dictionary<string, WorkerContext> contexts, string id, ITrialStore db)
    {
        using ITrialStore store = db.ForSearch(id);
        return store.All().All(t => t.Status is not (TrialStatus.Queued or TrialStatus.Running));
    }

    /// <summary>One search as a worker sees it: its store, the evaluator rebuilt from its row, the lease loop.</summary>
    private sealed class WorkerContext
    {
        private readonly Func<Trial, CancellationToken, JsonObject> _evaluate;

        public ITrialStore Store { get; }
        public TrialWorker Worker { get; }

        public WorkerContext(ITrialStore store, SearchRecord search, string artifactRoot, string owner)
        {
            Store = store;
            _evaluate = Evaluation(store, search, artifactRoot);
            Worker = new TrialWorker(store, search.Lease, owner);
            Worker.Leased += t => Console.WriteLine($"{search.Id} {t.Key}: leased (attempt {t.Attempts}) {t.Genotype["key"] ?? t.Role}");
            Worker.Ended += t => Console.WriteLine(t.Status == TrialStatus.Completed && t.LeaseOwner == owner
                ? string.Create(CultureInfo.InvariantCulture, $"{search.Id} {t.Key}: completed, {Score(t.Metrics)}")
                : t.Status == TrialStatus.Pruned && t.LeaseOwner == owner
                ? $"{search.Id} {t.Key}: pruned after epoch {t.Metrics?["epochs_reached"]}: {t.Metrics?["prune_reason"]?.GetValue<string>()}"
                : $"{search.Id} {t.Key}: {t.Status.ToString().ToLowerInvariant()}{(t.Error is null ? "" : ": " + t.Error)}");
        }

        public JsonObject Evaluate(Trial trial, CancellationToken cancel) => _evaluate(trial, cancel);

        /// <summary>The reward of a discrete search's sample, else the validation accuracy.</summary>
        private static string Score(JsonObject? m) => m?["reward"] is JsonNode r
            ? string.Create(CultureInfo.InvariantCulture, $"reward {r.GetValue<double>():F4}")
            : string.Create(CultureInfo.InvariantCulture, $"validation accuracy {m?["validation_accuracy"]?.GetValue<double>():P2}");
    }
}
