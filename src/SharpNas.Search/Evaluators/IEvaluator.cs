using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using SharpNas.Training;

namespace SharpNas.Search.Evaluators;

/// <summary>What an evaluator is asked to do: score one architecture, keeping its files in <see cref="ArtifactDir"/>.</summary>
public sealed record TrialRequest(string Key, string Role, IArchitecture Architecture, string ArtifactDir, int Epochs, bool ScoreStages = false,
    string? TransferFrom = null)
{
    /// <summary>The trial's key in the trial store when it differs from <see cref="Key"/> (a discrete search's sample
    /// <c>sample/000012</c>, whose request is keyed by its choices): where its intermediate values are reported.</summary>
    public string? StoreKey { get; init; }
}

/// <summary>The metrics of an evaluated architecture, as stored in the trial table (snake_case JSON).</summary>
public sealed record TrialMetrics
{
    public double? ValidationAccuracy { get; init; }
    public double? TestAccuracy { get; init; }
    public long Parameters { get; init; }
    public long ParametersWithBnStatistics { get; init; }
    public long Macs { get; init; }
    public int Depth { get; init; }
    public long MemoryBytes { get; init; }
    public double? LatencyMs { get; init; }
    public double TrainSeconds { get; init; }
    public double EnergyKwh { get; init; }
    public double Co2Kg { get; init; }
    public int Epochs { get; init; }
    /// <summary>Mean feature importance of each stage (stage-wise search only).</summary>
    public IReadOnlyList<double>? StageScores { get; init; }
    /// <summary>Validation accuracy after each epoch trained (null without a validation set); pruners read it from the store.</summary>
    public IReadOnlyList<double>? ValidCurve { get; init; }
    /// <summary>Epochs actually trained: <see cref="Epochs"/> for a completed trial, fewer for a pruned one.</summary>
    public int? EpochsReached { get; init; }
    /// <summary>Why a pruner stopped the trial (null when it was trained to the end).</summary>
    public string? PruneReason { get; init; }

    /// <summary>True when a pruner stopped the trial early.</summary>
    [JsonIgnore]
    public bool Pruned => PruneReason is not null;

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>The JSON form stored with the trial.</summary>
    public JsonObject ToJson() => JsonSerializer.SerializeToNode(this, Json)!.AsObject();

    /// <summary>Reads the stored JSON form.</summary>
    public static TrialMetrics FromJson(JsonObject o) => o.Deserialize<TrialMetrics>(Json)!;
}

/// <summary>Turns an architecture into metrics: by training it, fine-tuning it, predicting, or looking it up.</summary>
public interface IEvaluator
{
    /// <summary>Evaluates; resumable: a second call on the same artifact folder continues an interrupted evaluation.</summary>
    TrialMetrics Evaluate(TrialRequest request, CancellationToken cancel);
}
