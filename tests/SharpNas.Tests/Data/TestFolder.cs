using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace SharpNas.Tests.Data;

/// <summary>A temporary folder for synthetic dataset files, deleted on dispose.</summary>
internal sealed class TestFolder : IDisposable
{
    /// <summary>Creates the folder <c>sharpnas-{name}-{guid}</c> in the temporary folder.</summary>
    public TestFolder(string name = "data")
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"sharpnas-{name}-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>Writes <paramref name="bytes"/> as <paramref name="name"/>, gzip-compressed (and named .gz) when asked.</summary>
    public string Write(string name, byte[] bytes, bool gzip = false)
    {
        string path = System.IO.Path.Combine(Path, gzip ? name + ".gz" : name);
        if (!gzip) { File.WriteAllBytes(path, bytes); return path; }
        using var file = File.Create(path);
        using var stream = new GZipStream(file, CompressionLevel.Fastest);
        stream.Write(bytes);
        return path;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Byte layouts of tiny synthetic dataset files; pixel values are a known function of (image, position).</summary>
internal static class SyntheticFiles
{
    /// <summary>Pixel value of image <paramref name="image"/> at flat position <paramref name="position"/> (C×H×W order).</summary>
    public static byte Pixel(int image, int position) => (byte)(image * 31 + position * 7);

    /// <summary>CIFAR records: label byte(s) then 3,072 pixels; labels[i] goes to byte <paramref name="labelIndex"/>.</summary>
    public static byte[] CifarRecords(int[] labels, int labelBytes = 1, int labelIndex = 0, int firstImage = 0)
    {
        int record = labelBytes + 3072;
        var bytes = new byte[labels.Length * record];
        for (int i = 0; i < labels.Length; i++)
        {
            for (int b = 0; b < labelBytes; b++) bytes[i * record + b] = (byte)(b == labelIndex ? labels[i] : 99 - labels[i]);
            for (int p = 0; p < 3072; p++) bytes[i * record + labelBytes + p] = Pixel(firstImage + i, p);
        }
        return bytes;
    }

    public static byte[] IdxImages(int count, int rows, int columns)
    {
        var bytes = new byte[16 + count * rows * columns];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, 0x803);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), (uint)count);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(8), (uint)rows);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(12), (uint)columns);
        for (int i = 0; i < count; i++)
        {
            for (int p = 0; p < rows * columns; p++) bytes[16 + i * rows * columns + p] = Pixel(i, p);
        }
        return bytes;
    }

    public static byte[] IdxLabels(int[] labels)
    {
        var bytes = new byte[8 + labels.Length];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, 0x801);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), (uint)labels.Length);
        for (int i = 0; i < labels.Length; i++) bytes[8 + i] = (byte)labels[i];
        return bytes;
    }

    /// <summary>A .npy file: the header dict text as given, padded with spaces to a multiple of 64, then the data.</summary>
    public static byte[] Npy(string dict, byte[] data, int major = 1)
    {
        int lengthBytes = major == 1 ? 2 : 4;
        int prefix = 8 + lengthBytes;
        int total = prefix + dict.Length + 1;
        int padded = (total + 63) / 64 * 64;
        string header = dict + new string(' ', padded - total) + "\n";
        var bytes = new byte[prefix + header.Length + data.Length];
        bytes[0] = 0x93;
        Encoding.ASCII.GetBytes("NUMPY").CopyTo(bytes, 1);
        bytes[6] = (byte)major;
        bytes[7] = 0;
        if (major == 1) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)header.Length);
        else BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)header.Length);
        Encoding.ASCII.GetBytes(header).CopyTo(bytes, prefix);
        data.CopyTo(bytes, prefix + header.Length);
        return bytes;
    }

    /// <summary>A uint8 image array N×H×W×C (channels last) whose CHW pixel (c, y, x) of image i is Pixel(i, (c×H + y)×W + x).</summary>
    public static byte[] NpyImagesHwc(int n, int h, int w, int c)
    {
        var data = new byte[n * h * w * c];
        for (int i = 0; i < n; i++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    for (int ch = 0; ch < c; ch++)
                        data[((i * h + y) * w + x) * c + ch] = Pixel(i, (ch * h + y) * w + x);
        string shape = $"({n}, {h}, {w}, {c})";
        return Npy($"{{'descr': '|u1', 'fortran_order': False, 'shape': {shape}, }}", data);
    }

    /// <summary>An int64 little-endian label array of shape (N,).</summary>
    public static byte[] NpyLabelsInt64(int[] labels)
    {
        var data = new byte[labels.Length * 8];
        for (int i = 0; i < labels.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(i * 8), labels[i]);
        return Npy($"{{'descr': '<i8', 'fortran_order': False, 'shape': ({labels.Length},), }}", data);
    }
}
