using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace SharpNas.Search.Trials;

/// <summary>
/// Takes trials from a store by lease and evaluates them: lease, heartbeat on a background timer while evaluating
/// (every third of the lease), complete in one transaction. An evaluation that throws is a failed attempt (the trial is
/// queued again, or failed after <see cref="LeaseOptions.MaxAttempts"/>); a cancelled one gives its lease back. Used by
/// <c>sharpnas worker</c> and by a search's coordinator, which trains queued trials itself.
/// </summary>
public sealed class TrialWorker(ITrialStore store, LeaseOptions options, string? owner = null)
{
    /// <summary>This process's lease-owner name: <c>host:pid:name</c>.</summary>
    public string Owner { get; } = owner ?? OwnerName("worker");

    /// <summary>Called when a trial is leased.</summary>
    public event Action<Trial>? Leased;

    /// <summary>Called when a leased trial ends: completed, queued again after an error, failed — or, when another
    /// worker took it over because this one's lease ran out, the store's current row.</summary>
    public event Action<Trial>? Ended;

    /// <summary>Trials this worker completed.</summary>
    public int Completed { get; private set; }

    /// <summary>A lease-owner name for this process: <c>host:pid:<paramref name="name"/></c>.</summary>
    public static string OwnerName(string name) =>
        string.Create(CultureInfo.InvariantCulture, $"{Environment.MachineName}:{Environment.ProcessId}:{name}");

    /// <summary>
    /// Leases one trial and evaluates it with <paramref name="evaluate"/> (which returns the metrics to store).
    /// Returns the trial as it ended, or null when no trial could be leased.
    /// </summary>
    public Trial? RunOne(Func<Trial, CancellationToken, JsonObject> evaluate, CancellationToken cancel = default)
    {
        cancel.ThrowIfCancellationRequested();
        Trial? trial = store.Lease(Owner, options);
        if (trial is null && ReclaimDeadLocalLeases() > 0) trial = store.Lease(Owner, options);
        if (trial is null) return null;
        Leased?.Invoke(trial);
        JsonObject metrics;
        using (var heartbeat = new Heartbeat(store, trial.Key, Owner, options))
        {
            try
            {
                metrics = evaluate(trial, cancel);
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                heartbeat.Stop();
                store.ReleaseLease(trial.Key, Owner);   // the next process resumes it from its checkpoint
                throw;
            }
            catch (Exception e)
            {
                heartbeat.Stop();
                Trial ended = store.FailLease(trial.Key, Owner, e.Message.ReplaceLineEndings(" "), options.MaxAttempts) ?? store.Find(trial.Key)!;
                Ended?.Invoke(ended);
                return ended;
            }
        }
        // An evaluation stopped early by a pruner returns its partial metrics with a "prune_reason" (TrialMetrics.PruneReason).
        Trial? done = store.CompleteLease(trial.Key, Owner, metrics, pruned: metrics["prune_reason"] is JsonValue);
        if (done is not null) Completed++;
        done ??= store.Find(trial.Key)!;   // the lease ran out and another worker owns the trial now
        Ended?.Invoke(done);
        return done;
    }

    /// <summary>
    /// Ends at once the leases held by dead processes of this machine (owner <c>host:pid:…</c> with this host and a pid
    /// that no longer runs), so that a search killed and restarted on one machine need not wait for leases to expire.
    /// Returns how many were ended.
    /// </summary>
    public int ReclaimDeadLocalLeases()
    {
        int n = 0;
        string prefix = Environment.MachineName + ":";
        foreach (Trial t in store.All())
        {
            if (t.Status != TrialStatus.Running || t.LeaseOwner is not string o || !o.StartsWith(prefix, StringComparison.Ordinal)) continue;
            string[] parts = o.Split(':');
            if (parts.Length < 3 || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || Alive(pid)) continue;
            store.ExpireLease(t.Key);
            n++;
        }
        return n;
    }

    private static bool Alive(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        try
        {
            using Process p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    /// <summary>Extends a lease on a timer until stopped; a failed heartbeat (store briefly unreachable) is retried at
    /// the next tick.</summary>
    private sealed class Heartbeat : IDisposable
    {
        private readonly Timer _timer;
        private bool _stopped;

        public Heartbeat(ITrialStore store, string key, string owner, LeaseOptions options)
        {
            _timer = new Timer(_ =>
            {
                try { store.Heartbeat(key, owner, options.Lease); }
                catch (Exception e) when (e is not OutOfMemoryException) { /* retried at the next tick; the lease covers 3 ticks */ }
            }, null, options.HeartbeatPeriod, options.HeartbeatPeriod);
        }

        /// <summary>Stops the timer and waits for a running tick to end.</summary>
        public void Stop()
        {
            if (_stopped) return;
            _stopped = true;
            using var done = new ManualResetEvent(false);
            if (_timer.Dispose(done)) done.WaitOne();
        }

        public void Dispose() => Stop();
    }
}
