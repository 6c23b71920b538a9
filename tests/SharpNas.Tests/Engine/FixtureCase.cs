using System.Text.Json;
using SharpNas.Engine;

namespace SharpNas.Tests.Engine;

/// <summary>One PyTorch reference case: <c>case.json</c> plus raw little-endian tensors (format in fixtures/README.md).</summary>
internal sealed class FixtureCase
{
    public string Name { get; }
    public string Op { get; }
    public JsonElement Params { get; }
    public double Rtol { get; }
    public double Atol { get; }
    public IReadOnlyList<Entry> Tensors { get; }
    private readonly string _dir;

    public sealed record Entry(string Name, string Role, int[] Shape, string Dtype, string File, double? Rtol, double? Atol);

    public FixtureCase(string dir)
    {
        _dir = dir;
        using var doc = JsonDocument.Parse(System.IO.File.ReadAllText(Path.Combine(dir, "case.json")));
        JsonElement root = doc.RootElement;
        Name = root.GetProperty("case").GetString()!;
        Op = root.GetProperty("op").GetString()!;
        Params = root.GetProperty("params").Clone();
        Rtol = root.GetProperty("tolerance").GetProperty("rtol").GetDouble();
        Atol = root.GetProperty("tolerance").GetProperty("atol").GetDouble();
        Tensors = root.GetProperty("tensors").EnumerateArray().Select(t => new Entry(
            t.GetProperty("name").GetString()!, t.GetProperty("role").GetString()!,
            t.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray(),
            t.GetProperty("dtype").GetString()!, t.GetProperty("file").GetString()!,
            t.TryGetProperty("rtol", out var r) ? r.GetDouble() : null,
            t.TryGetProperty("atol", out var a) ? a.GetDouble() : null)).ToList();
    }

    public Entry EntryOf(string name) => Tensors.FirstOrDefault(t => t.Name == name)
        ?? throw new KeyNotFoundException($"{Name}: no tensor {name}");

    public bool Has(string name) => Tensors.Any(t => t.Name == name);

    /// <summary>A fresh float32 tensor (a copy each call).</summary>
    public Tensor Load(string name)
    {
        Entry e = EntryOf(name);
        if (e.Dtype != "float32") throw new InvalidOperationException($"{Name}: {name} is {e.Dtype}");
        byte[] bytes = System.IO.File.ReadAllBytes(Path.Combine(_dir, e.File));
        float[] values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).ToArray();
        return Tensor.FromArray(values, e.Shape);
    }

    public long[] LoadInt64(string name)
    {
        Entry e = EntryOf(name);
        byte[] bytes = System.IO.File.ReadAllBytes(Path.Combine(_dir, e.File));
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(bytes).ToArray();
    }

    public int Int(string key) => Params.GetProperty(key).GetInt32();
    public double Double(string key) => Params.GetProperty(key).GetDouble();
    public bool Bool(string key) => Params.GetProperty(key).GetBoolean();
    public int[] Pair(string key) => Params.GetProperty(key).EnumerateArray().Select(d => d.GetInt32()).ToArray();

    /// <summary>Names of the tensors the engine must reproduce (roles output, grad, buffer_out).</summary>
    public IEnumerable<Entry> Expected() => Tensors.Where(t => t.Role is "output" or "grad" or "buffer_out");

    /// <summary>Every case folder of a fixture set, by name.</summary>
    public static IEnumerable<string> CaseNames(string root) =>
        Directory.GetDirectories(root).Where(d => System.IO.File.Exists(Path.Combine(d, "case.json")))
            .Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal);
}
