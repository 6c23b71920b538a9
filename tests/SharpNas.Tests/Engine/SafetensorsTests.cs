using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using SharpNas.Engine;
using SharpNas.Engine.IO;
using SharpNas.Engine.Models;

namespace SharpNas.Tests.Engine;

/// <summary>Weights as safetensors files: round trips, the on-disk layout other tools expect, the dtypes SharpNas
/// reads, and atomic writes.</summary>
public sealed class SafetensorsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "sharpnas-safetensors-" + Guid.NewGuid().ToString("N"));

    public SafetensorsTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (string, Tensor)[] Sample() =>
    [
        ("conv.weight", GradientCheck.Random([4, 3, 3, 3], new SeededRandom(1))),
        ("bn.running_var", Tensor.FromValues([1f, 0.5f, float.Epsilon, -0f], 4)),
        ("scalar", Tensor.FromValues([3.25f], 1)),
        ("empty", Tensor.Zeros(0, 5)),
        ("fc.bias", Tensor.FromValues([float.MaxValue, float.MinValue, 1e-38f], 3)),
    ];

    [Fact]
    public void A_saved_file_reads_back_with_the_same_names_shapes_values_order_and_metadata()
    {
        string path = Path.Combine(_dir, "model.safetensors");
        var meta = new Dictionary<string, string> { ["format"] = "pt", ["genotype"] = "{\"depths\":[3,3,3]}", ["note"] = "ünïcødé" };
        (string, Tensor)[] saved = Sample();
        Safetensors.Save(path, saved, meta);
        SafetensorsFile file = Safetensors.Load(path);
        Assert.Equal(saved.Select(s => s.Item1), file.Tensors.Select(t => t.Name));
        foreach ((string name, Tensor t) in saved)
        {
            Assert.Equal(t.ShapeArray, file.ByName[name].ShapeArray);
            Assert.Equal(t.ToArray(), file.ByName[name].ToArray());
        }
        Assert.Equal(meta, file.Metadata);
    }

    [Fact]
    public void The_header_is_plain_json_padded_so_the_data_starts_8_byte_aligned()
    {
        string path = Path.Combine(_dir, "model.safetensors");
        (string, Tensor)[] saved = Sample();
        Safetensors.Save(path, saved, new Dictionary<string, string> { ["k"] = "v" });
        byte[] bytes = File.ReadAllBytes(path);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, headerLength % 8);
        using var doc = JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, (int)headerLength));
        JsonElement header = doc.RootElement;
        Assert.Equal("v", header.GetProperty("__metadata__").GetProperty("k").GetString());
        long expectedOffset = 0;
        foreach ((string name, Tensor t) in saved)
        {
            JsonElement e = header.GetProperty(name);
            Assert.Equal("F32", e.GetProperty("dtype").GetString());
            Assert.Equal(t.ShapeArray, e.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()));
            long[] offsets = e.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            Assert.Equal([expectedOffset, expectedOffset + 4L * t.Size], offsets);
            expectedOffset += 4L * t.Size;
        }
        Assert.Equal(8 + (long)headerLength + expectedOffset, bytes.Length);
        // The data is raw little-endian float32.
        JsonElement scalar = header.GetProperty("scalar");
        long begin = scalar.GetProperty("data_offsets")[0].GetInt64();
        Assert.Equal(3.25f, BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(8 + (int)headerLength + (int)begin)));
    }

    [Fact]
    public void A_hand_built_file_of_F64_I64_I32_F16_and_BF16_tensors_reads_as_float32()
    {
        var data = new MemoryStream();
        var header = new Dictionary<string, object>();
        void Add(string name, string dtype, int[] shape, byte[] raw)
        {
            header[name] = new { dtype, shape, data_offsets = new[] { data.Length, data.Length + raw.Length } };
            data.Write(raw);
        }
        byte[] Bytes<T>(T[] values, int width, Action<byte[], int, T> write)
        {
            byte[] b = new byte[values.Length * width];
            for (int i = 0; i < values.Length; i++) write(b, i * width, values[i]);
            return b;
        }
        Add("f64", "F64", [2, 2], Bytes([1.5, -2.25, 1e-3, 65504.0], 8, (b, o, v) => BinaryPrimitives.WriteDoubleLittleEndian(b.AsSpan(o), v)));
        Add("i64", "I64", [3], Bytes([-7L, 0L, 1L << 40], 8, (b, o, v) => BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(o), v)));
        Add("i32", "I32", [2], Bytes([-3, 123456], 4, (b, o, v) => BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(o), v)));
        // F16: 1.0 = 0x3C00, -2.5 = 0xC100, 65504 = 0x7BFF (largest half), 2^-24 = 0x0001 (smallest subnormal).
        Add("f16", "F16", [4], Bytes<ushort>([0x3C00, 0xC100, 0x7BFF, 0x0001], 2, (b, o, v) => BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(o), v)));
        // BF16 is the top half of a float32: 1.0 = 0x3F80, -3.0 = 0xC040, 0.15625 = 0x3E20.
        Add("bf16", "BF16", [1, 3], Bytes<ushort>([0x3F80, 0xC040, 0x3E20], 2, (b, o, v) => BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(o), v)));
        header["__metadata__"] = new Dictionary<string, string> { ["source"] = "hand-built" };

        byte[] json = JsonSerializer.SerializeToUtf8Bytes(header);
        byte[] file = new byte[8 + json.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)json.Length);   // unpadded: readers must not require padding
        json.CopyTo(file, 8);
        data.ToArray().CopyTo(file, 8 + json.Length);
        string path = Path.Combine(_dir, "mixed.safetensors");
        File.WriteAllBytes(path, file);

        SafetensorsFile read = Safetensors.Load(path);
        Assert.Equal([1.5f, -2.25f, 1e-3f, 65504f], read.ByName["f64"].ToArray());
        Assert.Equal([2, 2], read.ByName["f64"].ShapeArray);
        Assert.Equal([-7f, 0f, (float)(1L << 40)], read.ByName["i64"].ToArray());
        Assert.Equal([-3f, 123456f], read.ByName["i32"].ToArray());
        Assert.Equal([1f, -2.5f, 65504f, MathF.Pow(2, -24)], read.ByName["f16"].ToArray());
        Assert.Equal([1f, -3f, 0.15625f], read.ByName["bf16"].ToArray());
        Assert.Equal([1, 3], read.ByName["bf16"].ShapeArray);
        Assert.Equal("hand-built", read.Metadata["source"]);
    }

    [Fact]
    public void Saving_leaves_no_temporary_file_and_replaces_an_existing_file()
    {
        string path = Path.Combine(_dir, "w.safetensors");
        Safetensors.Save(path, [("a", Tensor.Full(1f, 3))]);
        Safetensors.Save(path, [("a", Tensor.Full(2f, 3)), ("b", Tensor.Full(3f, 1))]);
        Assert.Equal([path], Directory.GetFiles(_dir));
        Assert.Equal([2f, 2f, 2f], Safetensors.Load(path).ByName["a"].ToArray());
    }

    [Fact]
    public void A_failed_save_keeps_the_previous_file_intact()
    {
        string path = Path.Combine(_dir, "w.safetensors");
        Safetensors.Save(path, [("a", Tensor.Full(1f, 3))]);
        byte[] before = File.ReadAllBytes(path);
        Assert.ThrowsAny<ArgumentException>(() => Safetensors.Save(path, [("a", Tensor.Full(2f, 3)), ("a", Tensor.Full(2f, 3))]));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(_dir));
    }

    [Fact]
    public void A_model_state_dict_survives_a_round_trip_through_a_file()
    {
        ResNet source = ResNet.Cifar(20);
        source.Initialize(new SeededRandom(8));
        string path = Path.Combine(_dir, "sub", "resnet20.safetensors");   // the folder is created
        Safetensors.Save(path, source.StateDict());
        ResNet target = ResNet.Cifar(20);
        target.LoadStateDict(Safetensors.Load(path).ByName);
        Assert.Equal(source.StateDict().SelectMany(e => e.Tensor.ToArray()), target.StateDict().SelectMany(e => e.Tensor.ToArray()));
    }
}
