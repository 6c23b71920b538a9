using System.Text.Json.Nodes;

namespace SharpNas.Search.Trials;

/// <summary>The durable list of a search's trials. Every change is committed before the call returns, so a process
/// killed at any moment loses no completed trial.</summary>
public interface ITrialStore : IDisposable
{
    /// <summary>The trial with this key, or null.</summary>
    Trial? Find(string key);

    /// <summary>Creates the trial (status queued) unless one with its key exists; returns the stored trial.</summary>
    Trial GetOrAdd(string key, string role, JsonObject genotype, JsonObject config);

    /// <summary>Marks a trial running and counts the attempt.</summary>
    Trial Start(string key, string artifactDir);

    /// <summary>Stores the metrics and marks the trial completed.</summary>
    Trial Complete(string key, JsonObject metrics);

    /// <summary>Stores the partial metrics (with <c>epochs_reached</c>) and marks the trial pruned: stopped early as not promising.</summary>
    Trial Prune(string key, JsonObject metrics);

    /// <summary>Stores the error and marks the trial failed.</summary>
    Trial Fail(string key, string error);

    /// <summary>Every trial in creation order.</summary>
    IReadOnlyList<Trial> All();
}
