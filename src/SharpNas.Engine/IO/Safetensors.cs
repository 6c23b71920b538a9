using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SharpNas.Engine.IO;

/// <summary>
/// Reads and writes the safetensors format (as Hugging Face's <c>safetensors</c> library does): an 8-byte
/// little-endian header length, a JSON header mapping each name to dtype, shape and byte offsets (plus optional
/// string metadata under <c>__metadata__</c>), then the raw little-endian data. SharpNas writes F32; it reads F32,
/// F64, F16, BF16, I64, I32 and converts them to float32.
/// </summary>
public static class Safetensors
{
    private const long MaxHeader = 100L << 20;

    /// <summary>Writes <paramref name="tensors"/> to <paramref name="path"/> atomically (temporary file, then rename).</summary>
    public static void Save(string path, IEnumerable<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (k, v) in metadata) meta[k] = v;
            header["__metadata__"] = meta;
        }
        long offset = 0;
        var names = new HashSet<string>();
        foreach ((string name, Tensor t) in list)
        {
            if (!names.Add(name)) throw new ArgumentException($"Safetensors.Save: duplicate tensor name \"{name}\"");
            var shape = new JsonArray();
            foreach (int d in t.Shape) shape.Add(d);
            header[name] = new JsonObject { ["dtype"] = "F32", ["shape"] = shape, ["data_offsets"] = new JsonArray(offset, offset + 4L * t.Size) };
            offset += 4L * t.Size;
        }
        byte[] json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8;
        string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        string tmp = Path.Combine(dir, "." + Path.GetFileName(path) + ".tmp" + Environment.ProcessId);
        try
        {
            using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                Span<byte> len = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)padded);
                fs.Write(len);
                fs.Write(json);
                for (int i = json.Length; i < padded; i++) fs.WriteByte((byte)' ');
                foreach ((_, Tensor t) in list) fs.Write(MemoryMarshal.AsBytes(t.Span));
                fs.Flush(true);
            }
            File.Move(tmp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    /// <summary>Reads every tensor of a safetensors file, in file order, as float32 tensors.</summary>
    public static SafetensorsFile Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"safetensors file {path} does not exist", path);
        byte[] bytes = File.ReadAllBytes(path);
        return Parse(bytes, path);
    }

    /// <summary>Parses safetensors bytes; <paramref name="source"/> names the input in error messages.</summary>
    public static SafetensorsFile Parse(ReadOnlySpan<byte> bytes, string source)
    {
        if (bytes.Length < 8) throw new InvalidDataException($"{source}: {bytes.Length} bytes is too short for a safetensors file (at least 8 expected)");
        ulong headerLen = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLen > (ulong)MaxHeader || 8 + (long)headerLen > bytes.Length)
            throw new InvalidDataException($"{source}: header length {headerLen} does not fit in a file of {bytes.Length} bytes");
        JsonObject header;
        try
        {
            header = JsonNode.Parse(bytes.Slice(8, (int)headerLen).ToArray()) as JsonObject
                ?? throw new InvalidDataException($"{source}: safetensors header must be a JSON object");
        }
        catch (JsonException e) { throw new InvalidDataException($"{source}: safetensors header is not valid JSON ({e.Message})"); }
        ReadOnlySpan<byte> data = bytes[(8 + (int)headerLen)..];
        var tensors = new List<(string, Tensor)>();
        var metadata = new Dictionary<string, string>();
        var entries = new List<(string Name, string Dtype, int[] Shape, long Begin, long End)>();
        foreach ((string name, JsonNode? node) in header)
        {
            if (name == "__metadata__")
            {
                if (node is not JsonObject meta || meta.Any(kv => kv.Value is not JsonValue v || v.GetValueKind() != JsonValueKind.String))
                    throw new InvalidDataException($"{source}: __metadata__ must map names to strings");
                foreach ((string k, JsonNode? v) in meta) metadata[k] = v!.GetValue<string>();
                continue;
            }
            try
            {
                var o = node!.AsObject();
                string dtype = o["dtype"]!.GetValue<string>();
                int[] shape = o["shape"]!.AsArray().Select(d => d!.GetValue<int>()).ToArray();
                var offs = o["data_offsets"]!.AsArray();
                if (offs.Count != 2) throw new FormatException("data_offsets must hold [begin, end]");
                entries.Add((name, dtype, shape, offs[0]!.GetValue<long>(), offs[1]!.GetValue<long>()));
            }
            catch (Exception e) when (e is InvalidOperationException or NullReferenceException or FormatException)
            {
                throw new InvalidDataException($"{source}: header entry \"{name}\" needs dtype (a string), shape (a list of integers) and data_offsets ([begin, end])");
            }
        }
        foreach (var (name, dtype, shape, begin, end) in entries.OrderBy(e => e.Begin))
        {
            if (shape.Any(d => d < 0)) throw new InvalidDataException($"{source}: tensor \"{name}\" has a negative dimension in shape {Tensor.Format(shape)}");
            int size = Tensor.ShapeSize(shape, $"{source}: tensor \"{name}\"");
            int width = dtype switch { "F32" or "I32" => 4, "F64" or "I64" => 8, "F16" or "BF16" => 2,
                _ => throw new InvalidDataException($"{source}: tensor \"{name}\" has dtype {dtype}; supported: F32, F64, F16, BF16, I64, I32") };
            if (begin < 0 || end > data.Length || end - begin != (long)size * width)
                throw new InvalidDataException($"{source}: tensor \"{name}\" {Tensor.Format(shape)} {dtype} needs {(long)size * width} bytes at [{begin}, {end}), the data section has {data.Length}");
            ReadOnlySpan<byte> raw = data.Slice((int)begin, (int)(end - begin));
            var values = new float[size];
            for (int i = 0; i < size; i++)
                values[i] = dtype switch
                {
                    "F32" => BinaryPrimitives.ReadSingleLittleEndian(raw[(4 * i)..]),
                    "F64" => (float)BinaryPrimitives.ReadDoubleLittleEndian(raw[(8 * i)..]),
                    "I64" => BinaryPrimitives.ReadInt64LittleEndian(raw[(8 * i)..]),
                    "I32" => BinaryPrimitives.ReadInt32LittleEndian(raw[(4 * i)..]),
                    "F16" => (float)BinaryPrimitives.ReadHalfLittleEndian(raw[(2 * i)..]),
                    _ => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(raw[(2 * i)..]) << 16),
                };
            tensors.Add((name, new Tensor(shape, values, 0, null) { Name = name }));
        }
        return new SafetensorsFile(tensors, metadata);
    }
}

/// <summary>The contents of a safetensors file.</summary>
public sealed class SafetensorsFile(IReadOnlyList<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string> metadata)
{
    /// <summary>Tensors in the order of their data.</summary>
    public IReadOnlyList<(string Name, Tensor Tensor)> Tensors { get; } = tensors;
    /// <summary>The <c>__metadata__</c> strings.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; } = metadata;
    /// <summary>Tensors by name.</summary>
    public IReadOnlyDictionary<string, Tensor> ByName { get; } = tensors.ToDictionary(t => t.Name, t => t.Tensor);
}
