using System.Text.Json.Nodes;

namespace SharpNas.Search.Trials;

/// <summary>
/// The durable list of a search's trials. Every change is committed before the call returns, so a process killed at
/// any moment loses no completed trial. A store object is bound to one search (<see cref="SearchId"/>); the database
/// behind it may hold several (PostgreSQL) or one (an SQLite file).
/// </summary>
/// <remarks>
/// Two ways to run a trial: <see cref="Start"/> then <see cref="Complete"/> (one process owns the search), or leasing —
/// <see cref="Lease"/>, <see cref="Heartbeat"/> while evaluating, then <see cref="CompleteLease"/> — so that any
/// number of worker processes share the queued trials and a trial whose worker died is taken over once its lease
/// expires.
/// </remarks>
public interface ITrialStore : IDisposable
{
    /// <summary>The search this object reads and writes.</summary>
    string SearchId { get; }

    /// <summary>Where the store is, for messages (a file path, or <c>postgres://host:port/db</c> without the password).</summary>
    string Location { get; }

    /// <summary>The trial with this key, or null.</summary>
    Trial? Find(string key);

    /// <summary>Creates the trial (status queued) unless one with its key exists; returns the stored trial.</summary>
    Trial GetOrAdd(string key, string role, JsonObject genotype, JsonObject config, string? artifactDir = null);

    /// <summary>Marks a trial running and counts the attempt.</summary>
    Trial Start(string key, string artifactDir);

    /// <summary>Stores the metrics and marks the trial completed.</summary>
    Trial Complete(string key, JsonObject metrics);

    /// <summary>Stores the partial metrics (with <c>epochs_reached</c>) and marks the trial pruned: stopped early as not promising.</summary>
    Trial Prune(string key, JsonObject metrics);

    /// <summary>Stores the error and marks the trial failed.</summary>
    Trial Fail(string key, string error);

    /// <summary>Every trial of the search in creation order.</summary>
    IReadOnlyList<Trial> All();

    /// <summary>Records the intermediate values of trial <paramref name="key"/> while it trains: its validation
    /// accuracy after epochs 1 … <c>validAccuracy.Count</c> (table <c>trial_epochs</c>, in one transaction). Epochs
    /// reported before are replaced (a resumed trial reports them again). Nothing is written for an unknown key.</summary>
    void ReportEpochs(string key, IReadOnlyList<double> validAccuracy);

    /// <summary>The intermediate values the trials of the search reported, by trial key: the validation accuracy after
    /// epoch 1, 2, … (consecutive epochs from the first; trials that reported nothing are absent).</summary>
    IReadOnlyDictionary<string, IReadOnlyList<double>> EpochValues();

    /// <summary>Records (or updates) this search's row: its kind and the settings a stateless worker needs to rebuild
    /// its evaluator. The creation time of an existing row is kept.</summary>
    SearchRecord SaveSearch(string kind, JsonObject settings, string status = SearchRecord.Running);

    /// <summary>The search row <paramref name="id"/>, or null.</summary>
    SearchRecord? FindSearch(string id);

    /// <summary>Every search row of the database, oldest first.</summary>
    IReadOnlyList<SearchRecord> Searches();

    /// <summary>A store on the same database bound to search <paramref name="searchId"/> (caller disposes it).</summary>
    ITrialStore ForSearch(string searchId);

    /// <summary>
    /// Takes the oldest queued trial, or a running one whose lease has expired, for <paramref name="owner"/>: status
    /// running, attempts + 1, lease until now + <see cref="LeaseOptions.Lease"/>. A running trial whose lease expired
    /// after <see cref="LeaseOptions.MaxAttempts"/> attempts is marked failed instead. Null when nothing is available.
    /// Safe against any number of concurrent callers (PostgreSQL: <c>FOR UPDATE SKIP LOCKED</c>).
    /// </summary>
    Trial? Lease(string owner, LeaseOptions options);

    /// <summary>Extends the lease of a trial <paramref name="owner"/> holds; false if the lease was lost.</summary>
    bool Heartbeat(string key, string owner, TimeSpan lease);

    /// <summary>Completes a leased trial in one transaction; null (nothing written) if <paramref name="owner"/> no
    /// longer holds its lease, so a trial is completed once.</summary>
    Trial? CompleteLease(string key, string owner, JsonObject metrics, bool pruned = false);

    /// <summary>Records a failed attempt of a leased trial: queued again, or failed once it made
    /// <paramref name="maxAttempts"/> attempts.</summary>
    Trial? FailLease(string key, string owner, string error, int maxAttempts);

    /// <summary>Gives a leased trial back (queued, the attempt not counted), e.g. when its worker is interrupted.</summary>
    void ReleaseLease(string key, string owner);

    /// <summary>Ends the lease of a running trial at once (its owner is known to be dead), so it can be leased again.</summary>
    void ExpireLease(string key);
}
