using System.Text.Json;
using System.Text.Json.Nodes;
using SharpNas.Search.Spaces.Epnas;
using SharpNas.Search.Spaces.NasNet;
using SharpNas.Search.Spaces.StageWise;
using SharpNas.Training;

namespace SharpNas.Search.Genotypes;

/// <summary>Reads and writes architecture files (<c>arch.json</c>) of every search space, dispatching on <c>"kind"</c>.</summary>
public static class ArchitectureJson
{
    /// <summary>The kinds this version reads.</summary>
    public static IReadOnlyList<string> Kinds { get; } = [StageGenotype.KindName, NasNetGenotype.KindName, EpnasLayerGenotype.KindName, EpnasModuleGenotype.KindName];

    /// <summary>Parses an architecture; <paramref name="source"/> names the input in errors.</summary>
    public static IArchitecture Parse(string json, string source)
    {
        JsonObject o;
        try { o = JsonNode.Parse(json)?.AsObject() ?? throw new GenotypeException($"{source}: empty architecture"); }
        catch (JsonException e) { throw new GenotypeException($"{source}: not valid JSON ({e.Message})"); }
        catch (InvalidOperationException) { throw new GenotypeException($"{source}: the architecture must be a JSON object"); }
        string kind = Field(o, "kind", source).GetValue<string>();
        return kind switch
        {
            StageGenotype.KindName => StageGenotype.FromJson(o, source),
            NasNetGenotype.KindName => NasNetGenotype.FromJson(o, source),
            EpnasLayerGenotype.KindName => EpnasLayerGenotype.FromJson(o, source),
            EpnasModuleGenotype.KindName => EpnasModuleGenotype.FromJson(o, source),
            _ => throw new GenotypeException($"{source}: unknown kind \"{kind}\"; expected one of {string.Join(", ", Kinds)}"),
        };
    }

    /// <summary>Reads an architecture file.</summary>
    public static IArchitecture Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"architecture file {path} does not exist", path);
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Writes an architecture as indented JSON, atomically.</summary>
    public static void Save(IArchitecture architecture, string path)
    {
        string tmp = path + ".tmp";
        File.WriteAllText(tmp, architecture.ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>A required field, or an error naming it.</summary>
    public static JsonNode Field(JsonObject o, string name, string source) =>
        o[name] ?? throw new GenotypeException($"{source}: field \"{name}\" is missing");

    /// <summary>A required integer field, or an error naming it.</summary>
    public static int IntField(JsonNode node, string name, string source)
    {
        try { return node.GetValue<int>(); }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        { throw new GenotypeException($"{source}: field \"{name}\" must be an integer, found {node.ToJsonString()}"); }
    }
}
