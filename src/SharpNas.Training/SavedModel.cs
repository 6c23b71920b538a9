using System.Text.Json;
using SharpNas.Data;
using SharpNas.Engine;
using SharpNas.Engine.IO;
using SharpNas.Engine.Modules;

namespace SharpNas.Training;

/// <summary>
/// A trained network read back from its weights (<c>model.safetensors</c>) for an architecture, with the input
/// normalisation it was trained with when the run recorded it (the <c>normalization</c> metadata of the weights, or
/// the <c>normalization</c> field of a <c>metrics.json</c> beside them).
/// </summary>
public sealed class SavedModel
{
    private SavedModel(IArchitecture architecture, Module<Tensor, Tensor> network, ChannelStatistics? normalization, string? normalizationSource)
    {
        Architecture = architecture;
        Network = network;
        Normalization = normalization;
        NormalizationSource = normalizationSource;
    }

    /// <summary>The architecture.</summary>
    public IArchitecture Architecture { get; }

    /// <summary>The network with the saved weights loaded, in evaluation mode.</summary>
    public Module<Tensor, Tensor> Network { get; }

    /// <summary>The recorded training normalisation, or null when the run did not record it.</summary>
    public ChannelStatistics? Normalization { get; }

    /// <summary>Where <see cref="Normalization"/> came from (a file name), or null.</summary>
    public string? NormalizationSource { get; }

    /// <summary>Builds <paramref name="architecture"/> for <paramref name="input"/> and loads <paramref name="weightsPath"/> into it.
    /// Weights that do not fit are one error listing every missing, unexpected and misshapen tensor.</summary>
    public static SavedModel Load(IArchitecture architecture, string weightsPath, InputSpec input)
    {
        SafetensorsFile file = Safetensors.Load(weightsPath);
        Module<Tensor, Tensor> network = architecture.Build(input);
        try { network.LoadStateDict(file.ByName); }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{weightsPath} does not fit {architecture.Describe()} for {input}: {e.Message}");
        }
        network.Eval();
        if (WeightsMetadata.ReadNormalization(file.Metadata, weightsPath) is { } recorded)
            return new SavedModel(architecture, network, recorded, Path.GetFileName(weightsPath));
        string metrics = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(weightsPath))!, "metrics.json");
        ChannelStatistics? fromMetrics = File.Exists(metrics) ? ReadMetricsNormalization(metrics) : null;
        return new SavedModel(architecture, network, fromMetrics, fromMetrics is null ? null : "metrics.json");
    }

    private static ChannelStatistics? ReadMetricsNormalization(string path)
    {
        try { return JsonSerializer.Deserialize<RunMetrics>(File.ReadAllText(path), RunMetrics.JsonOptions)?.Normalization; }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            throw new InvalidDataException($"{path}: not a metrics file ({e.Message})");
        }
    }

}
