using System.Text.Json.Nodes;

namespace SharpNas.Search.Trials;

/// <summary>
/// A search row: what kind of search it is and the settings a stateless worker needs to evaluate its trials (data
/// spec, training settings, seed, child network shape, lease settings).
/// </summary>
public sealed record SearchRecord
{
    /// <summary>Status of a search whose coordinator may still enqueue trials.</summary>
    public const string Running = "running";
    /// <summary>Status of a search whose coordinator finished.</summary>
    public const string Finished = "finished";

    /// <summary>The search's id (by default its run folder's name).</summary>
    public required string Id { get; init; }
    /// <summary>What evaluates its trials (e.g. <c>nasnet</c>, <c>smoke</c>; see <c>Strategies/Discrete/DiscreteTrialEvaluators</c>).</summary>
    public required string Kind { get; init; }
    /// <summary>The evaluator settings.</summary>
    public JsonObject Settings { get; init; } = [];
    /// <summary><see cref="Running"/> or <see cref="Finished"/>.</summary>
    public string Status { get; init; } = Running;
    /// <summary>When the row was created / last changed (UTC).</summary>
    public DateTime CreatedUtc { get; init; }
    /// <inheritdoc cref="CreatedUtc"/>
    public DateTime UpdatedUtc { get; init; }

    /// <summary>The lease settings stored with the search (defaults where absent).</summary>
    public LeaseOptions Lease => LeaseOptions.FromJson(Settings["lease"] as JsonObject);
}

/// <summary>How trials are leased: the lease length (a worker heartbeats every third of it), the attempts after which
/// a trial is failed, and how often an idle process polls the queue.</summary>
public sealed record LeaseOptions
{
    /// <summary>Lease length; a worker that stops heartbeating loses its trial this long after its last heartbeat.</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Attempts (leases) after which a trial that still fails, or whose worker died, is marked failed.</summary>
    public int MaxAttempts { get; init; } = 3;
    /// <summary>Pause between polls of an empty queue.</summary>
    public TimeSpan Poll { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The heartbeat period: a third of the lease.</summary>
    public TimeSpan HeartbeatPeriod => Lease / 3;

    /// <summary>Throws naming the bad setting.</summary>
    public void Validate()
    {
        if (Lease < TimeSpan.FromSeconds(1)) throw new ArgumentException($"lease must be at least 1 s, found {Lease.TotalSeconds} s");
        if (MaxAttempts < 1) throw new ArgumentException($"max attempts must be at least 1, found {MaxAttempts}");
        if (Poll <= TimeSpan.Zero) throw new ArgumentException($"poll interval must be positive, found {Poll.TotalMilliseconds} ms");
    }

    /// <summary>The JSON form stored in the search row.</summary>
    public JsonObject ToJson() => new() { ["seconds"] = Lease.TotalSeconds, ["max_attempts"] = MaxAttempts, ["poll_ms"] = Poll.TotalMilliseconds };

    /// <summary>Reads the stored form (null: defaults).</summary>
    public static LeaseOptions FromJson(JsonObject? o)
    {
        var d = new LeaseOptions();
        if (o is null) return d;
        return new LeaseOptions
        {
            Lease = o["seconds"] is JsonNode s ? TimeSpan.FromSeconds(s.GetValue<double>()) : d.Lease,
            MaxAttempts = o["max_attempts"] is JsonNode m ? m.GetValue<int>() : d.MaxAttempts,
            Poll = o["poll_ms"] is JsonNode p ? TimeSpan.FromMilliseconds(p.GetValue<double>()) : d.Poll,
        };
    }
}
