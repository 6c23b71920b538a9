using System.Text.Json.Nodes;

namespace SharpNas.Search.Pruning;

/// <summary>The JSON form of a pruner and its settings, stored in a search row (setting <see cref="SettingName"/>) so
/// that every worker of the search prunes as its coordinator does: <c>{"name": "median", "warmup": 1, "min_trials": 3}</c>,
/// <c>{"name": "asha", "min_epochs": 1, "eta": 3, "rungs": null}</c>, or absent / null for none.</summary>
public static class Pruners
{
    /// <summary>The search-row setting holding the pruner.</summary>
    public const string SettingName = "prune";

    /// <summary>The stored form of <paramref name="pruner"/> (null for none).</summary>
    public static JsonObject? ToJson(IPruner? pruner) => pruner switch
    {
        null => null,
        MedianPruner m => new JsonObject { ["name"] = m.Name, ["warmup"] = m.Options.WarmupEpochs, ["min_trials"] = m.Options.MinCompletedTrials },
        AshaPruner a => new JsonObject { ["name"] = a.Name, ["min_epochs"] = a.Options.MinEpochs, ["eta"] = a.Options.ReductionFactor, ["rungs"] = a.Options.MaxRungs },
        _ => throw new ArgumentException($"pruner {pruner.Name} cannot be stored in a search row"),
    };

    /// <summary>The pruner of a stored form (null or absent: none); a bad form is an <see cref="InvalidDataException"/>.</summary>
    public static IPruner? FromJson(JsonNode? node)
    {
        if (node is null) return null;
        try
        {
            JsonObject o = node.AsObject();
            return o["name"]?.GetValue<string>() switch
            {
                null or "none" => null,
                "median" => new MedianPruner(new MedianPrunerOptions
                {
                    WarmupEpochs = o["warmup"]?.GetValue<int>() ?? new MedianPrunerOptions().WarmupEpochs,
                    MinCompletedTrials = o["min_trials"]?.GetValue<int>() ?? new MedianPrunerOptions().MinCompletedTrials,
                }),
                "asha" => new AshaPruner(new AshaOptions
                {
                    MinEpochs = o["min_epochs"]?.GetValue<int>() ?? new AshaOptions().MinEpochs,
                    ReductionFactor = o["eta"]?.GetValue<int>() ?? new AshaOptions().ReductionFactor,
                    MaxRungs = o["rungs"] is JsonNode r ? r.GetValue<int>() : null,
                }),
                var other => throw new InvalidDataException($"search setting \"{SettingName}\": unknown pruner {other}"),
            };
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException)
        {
            throw new InvalidDataException($"search setting \"{SettingName}\" is not a pruner: {node.ToJsonString()} ({e.Message})");
        }
    }
}
