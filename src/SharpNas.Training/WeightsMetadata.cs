using System.Text.Json.Nodes;
using SharpNas.Data;

namespace SharpNas.Training;

/// <summary>
/// What a run's <c>model.safetensors</c> records beside the tensors (string metadata of the safetensors header), so the
/// weights alone are enough to rebuild and run the network: <c>architecture</c> (the <c>arch.json</c> text),
/// <c>input</c> (<c>{"channels": C, "height": H, "width": W, "classes": K}</c>) and <c>normalization</c> (the per-channel
/// <c>{"mean": […], "std": […]}</c> of pixels in [0, 1] that training fed the network: x = (pixel/255 − mean)/std).
/// Files written before <c>input</c> and <c>normalization</c> were recorded lack them; readers return null.
/// </summary>
public static class WeightsMetadata
{
    /// <summary>Key of the architecture JSON.</summary>
    public const string ArchitectureKey = "architecture";
    /// <summary>Key of the input shape.</summary>
    public const string InputKey = "input";
    /// <summary>Key of the input normalisation.</summary>
    public const string NormalizationKey = "normalization";

    /// <summary>The metadata of a trained model.</summary>
    public static Dictionary<string, string> Create(IArchitecture architecture, InputSpec input, ChannelStatistics normalization) => new()
    {
        [ArchitectureKey] = architecture.ToJson().ToJsonString(),
        [InputKey] = new JsonObject { ["channels"] = input.Channels, ["height"] = input.Height, ["width"] = input.Width, ["classes"] = input.NumClasses }.ToJsonString(),
        [NormalizationKey] = new JsonObject
        {
            ["mean"] = new JsonArray(normalization.Mean.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray()),
            ["std"] = new JsonArray(normalization.Std.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray()),
        }.ToJsonString(),
    };

    /// <summary>The recorded input shape, or null when absent; malformed metadata is an error naming <paramref name="source"/>.</summary>
    public static InputSpec? ReadInput(IReadOnlyDictionary<string, string> metadata, string source)
    {
        if (!metadata.TryGetValue(InputKey, out string? text)) return null;
        try
        {
            JsonNode o = JsonNode.Parse(text) ?? throw new FormatException("null");
            int Get(string k) => o[k]?.GetValue<int>() ?? throw new FormatException($"no \"{k}\"");
            return new InputSpec(Get("channels"), Get("height"), Get("width"), Get("classes"));
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException or System.Text.Json.JsonException)
        {
            throw new InvalidDataException($"{source}: metadata \"{InputKey}\" must be {{\"channels\", \"height\", \"width\", \"classes\"}}, found {text} ({e.Message})");
        }
    }

    /// <summary>The recorded normalisation, or null when absent; malformed metadata is an error naming <paramref name="source"/>.</summary>
    public static ChannelStatistics? ReadNormalization(IReadOnlyDictionary<string, string> metadata, string source)
    {
        if (!metadata.TryGetValue(NormalizationKey, out string? text)) return null;
        try
        {
            JsonNode o = JsonNode.Parse(text) ?? throw new FormatException("null");
            float[] Get(string k) => (o[k] as JsonArray ?? throw new FormatException($"no \"{k}\" array")).Select(v => v!.GetValue<float>()).ToArray();
            return new ChannelStatistics(Get("mean"), Get("std"));
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException or ArgumentException or NullReferenceException or System.Text.Json.JsonException)
        {
            throw new InvalidDataException($"{source}: metadata \"{NormalizationKey}\" must be {{\"mean\": [...], \"std\": [...]}}, found {text} ({e.Message})");
        }
    }
}
