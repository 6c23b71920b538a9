using System.Text.Json.Nodes;

namespace SharpNas.Search.Trials;

/// <summary>Where a trial is in its life.</summary>
public enum TrialStatus
{
    /// <summary>Waiting to be evaluated.</summary>
    Queued,
    /// <summary>Being evaluated (its artifact folder may hold a checkpoint).</summary>
    Running,
    /// <summary>Evaluated; metrics are stored.</summary>
    Completed,
    /// <summary>Evaluation failed; the error is stored.</summary>
    Failed,
    /// <summary>Stopped early as not promising.</summary>
    Pruned,
}

/// <summary>
/// One architecture evaluation of a search: identified by a <see cref="Key"/> that the strategy derives from its
/// position in the search (e.g. <c>iter2/temporary</c>), so that a resumed search finds the trials it already ran.
/// </summary>
public sealed record Trial
{
    /// <summary>Row id in the store.</summary>
    public long Id { get; init; }
    /// <summary>The search the trial belongs to (a store may hold several searches).</summary>
    public string SearchId { get; init; } = TrialStores.DefaultSearchId;
    /// <summary>The strategy's stable name for this trial.</summary>
    public required string Key { get; init; }
    /// <summary>Why the strategy runs it (e.g. initial, temporary, candidate, final, baseline, sample).</summary>
    public required string Role { get; init; }
    /// <summary>The architecture (arch.json form).</summary>
    public required JsonObject Genotype { get; init; }
    /// <summary>The training configuration.</summary>
    public JsonObject Config { get; init; } = [];
    /// <summary>Status.</summary>
    public TrialStatus Status { get; init; } = TrialStatus.Queued;
    /// <summary>Metrics once completed (accuracies, cost, stage scores, …).</summary>
    public JsonObject? Metrics { get; init; }
    /// <summary>Folder of checkpoints, weights and metrics files (relative to the run folder or the workers' artifact folder).</summary>
    public string? ArtifactDir { get; init; }
    /// <summary>Times the evaluation was started.</summary>
    public int Attempts { get; init; }
    /// <summary>Error of the last failed attempt.</summary>
    public string? Error { get; init; }
    /// <summary>The process holding (or, once completed, last holding) the trial's lease: <c>host:pid:name</c>.</summary>
    public string? LeaseOwner { get; init; }
    /// <summary>When the lease runs out unless its owner heartbeats (null when not leased).</summary>
    public DateTime? LeaseExpiresUtc { get; init; }
    /// <summary>The owner's last heartbeat.</summary>
    public DateTime? HeartbeatUtc { get; init; }
    /// <summary>When it was created / last changed (UTC).</summary>
    public DateTime CreatedUtc { get; init; }
    /// <inheritdoc cref="CreatedUtc"/>
    public DateTime UpdatedUtc { get; init; }
    /// <summary>When its first attempt started / when it was completed, failed or pruned (UTC).</summary>
    public DateTime? StartedUtc { get; init; }
    /// <inheritdoc cref="StartedUtc"/>
    public DateTime? FinishedUtc { get; init; }
}
