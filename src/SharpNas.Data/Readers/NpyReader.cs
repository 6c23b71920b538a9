using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace SharpNas.Data;

/// <summary>
/// The header of a NumPy <c>.npy</c> file: element type (<c>descr</c>, e.g. <c>|u1</c>, <c>&lt;i8</c>),
/// memory order and shape, and where the data starts.
/// </summary>
/// <param name="Descr">The dtype string as written, e.g. <c>|u1</c>, <c>&lt;i4</c>, <c>&gt;i2</c>.</param>
/// <param name="FortranOrder">True when the data is column-major (not supported for reading data).</param>
/// <param name="Shape">The array shape; empty for a scalar.</param>
/// <param name="DataOffset">Offset of the first data byte in the file.</param>
public sealed record NpyHeader(string Descr, bool FortranOrder, IReadOnlyList<long> Shape, int DataOffset)
{
    /// <summary>Number of elements (product of the shape).</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>The shape as Python prints it, e.g. <c>(60000, 28, 28)</c>.</summary>
    public string ShapeText => "(" + string.Join(", ", Shape) + (Shape.Count == 1 ? ",)" : ")");
}

/// <summary>
/// Reads image sets stored as NumPy <c>.npy</c> pairs. The header (format versions 1, 2 and 3) is parsed here.
/// Images: unsigned bytes (<c>|u1</c>), shape N×H×W (grayscale) or N×H×W×C (channels last).
/// Labels: any integer dtype (<c>i1 i2 i4 i8 u1 u2 u4 u8</c>, either byte order), shape (N,) or (N, 1).
/// </summary>
public static partial class NpyReader
{
    /// <summary>File names read by <see cref="ReadDataset"/>; each may also be gzip-compressed (<c>.npy.gz</c>).</summary>
    public static IReadOnlyList<string> FileNames { get; } = ["train_images.npy", "train_labels.npy", "test_images.npy", "test_labels.npy"];

    /// <summary>
    /// Reads <c>train_images.npy</c>, <c>train_labels.npy</c>, <c>test_images.npy</c>, <c>test_labels.npy</c> from
    /// <paramref name="directory"/>. Class names come from <c>class_names.txt</c> (one per line) when present;
    /// otherwise the classes are <c>0</c>…<c>K-1</c> with K = largest label + 1.
    /// </summary>
    public static DatasetPair ReadDataset(string directory)
    {
        DataFile.RequireDirectory(directory, "train_images.npy, train_labels.npy, test_images.npy, test_labels.npy");
        string[] paths = FileNames.Select(f => DataFile.Require(directory, f)).ToArray();
        var (trainPixels, trainShape) = ReadImages(paths[0]);
        int[] trainLabels = ReadLabels(paths[1]);
        var (testPixels, testShape) = ReadImages(paths[2]);
        int[] testLabels = ReadLabels(paths[3]);
        CheckCount(paths[1], trainLabels.Length, paths[0], trainShape.Count);
        CheckCount(paths[3], testLabels.Length, paths[2], testShape.Count);
        if ((trainShape.Channels, trainShape.Height, trainShape.Width) != (testShape.Channels, testShape.Height, testShape.Width))
            throw new DataFormatException(paths[2],
                $"images of {testShape.Height}×{testShape.Width}×{testShape.Channels} (H×W×C), expected {trainShape.Height}×{trainShape.Width}×{trainShape.Channels} as in {DataFile.Name(paths[0])}");

        int maxLabel = Math.Max(trainLabels.Max(), testLabels.Max());
        string? namesPath = DataFile.Find(directory, "class_names.txt");
        IReadOnlyList<string> classNames;
        if (namesPath is not null)
        {
            classNames = Encoding.UTF8.GetString(DataFile.ReadAll(namesPath)).Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
            if (classNames.Count == 0) throw new DataFormatException(namesPath, "expected class names (one per line), found none");
        }
        else
        {
            classNames = Enumerable.Range(0, maxLabel + 1).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        }
        CheckLabels(paths[1], trainLabels, classNames.Count, namesPath);
        CheckLabels(paths[3], testLabels, classNames.Count, namesPath);
        return new DatasetPair(
            new ImageDataset("npy/train", trainShape.Channels, trainShape.Height, trainShape.Width, classNames, trainPixels, trainLabels),
            new ImageDataset("npy/test", testShape.Channels, testShape.Height, testShape.Width, classNames, testPixels, testLabels));
    }

    private static void CheckCount(string labelsPath, int labels, string imagesPath, int images)
    {
        if (labels != images)
            throw new DataFormatException(labelsPath, $"{labels:N0} labels, expected {images:N0} (one per image in {DataFile.Name(imagesPath)})");
    }

    private static void CheckLabels(string path, int[] labels, int classCount, string? namesPath)
    {
        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classCount)
                throw new DataFormatException(path, $"label {labels[i]} at index {i:N0} is out of range, expected 0..{classCount - 1}" +
                    (namesPath is null ? "" : $" ({classCount} names in {DataFile.Name(namesPath)})"));
        }
    }

    /// <summary>The shape of an image array read from a <c>.npy</c> file.</summary>
    public readonly record struct ImageShape(int Count, int Height, int Width, int Channels);

    /// <summary>Reads a uint8 image array (N×H×W or N×H×W×C) and returns its pixels converted to N×C×H×W.</summary>
    public static (byte[] Pixels, ImageShape Shape) ReadImages(string path)
    {
        byte[] file = DataFile.ReadAll(path);
        NpyHeader header = ParseHeader(file, path);
        Match dtype = DtypePattern().Match(header.Descr);
        if (!dtype.Success || dtype.Groups["kind"].Value != "u" || dtype.Groups["size"].Value != "1")
            throw new DataFormatException(path, $"dtype '{header.Descr}', expected unsigned bytes '|u1' (pixels 0..255)");
        if (header.FortranOrder)
            throw new DataFormatException(path, "fortran_order True, expected C order (fortran_order False)");
        IReadOnlyList<long> s = header.Shape;
        if (s.Count is not (3 or 4))
            throw new DataFormatException(path, $"shape {header.ShapeText}, expected (N, H, W) or (N, H, W, C)");
        if (s.Any(d => d <= 0 || d > int.MaxValue))
            throw new DataFormatException(path, $"shape {header.ShapeText}, expected positive sizes" + (s[0] == 0 ? " (an empty set)" : ""));
        int n = (int)s[0], h = (int)s[1], w = (int)s[2], c = s.Count == 4 ? (int)s[3] : 1;
        if (c > 4)
            throw new DataFormatException(path, $"shape {header.ShapeText}, expected channels last (N, H, W, C) with C ≤ 4, found C = {c}" +
                (s[1] <= 4 ? "; it looks channels-first (N, C, H, W): transpose it to (N, H, W, C)" : ""));
        CheckSize(path, file, header, 1);
        var pixels = new byte[(long)n * c * h * w];
        ReadOnlySpan<byte> data = file.AsSpan(header.DataOffset);
        if (c == 1)
        {
            data[..pixels.Length].CopyTo(pixels);
        }
        else
        {
            int plane = h * w, image = plane * c;
            for (int i = 0; i < n; i++)
            {
                ReadOnlySpan<byte> src = data.Slice(i * image, image);
                Span<byte> dst = pixels.AsSpan(i * image, image);
                for (int p = 0; p < plane; p++)
                {
                    for (int ch = 0; ch < c; ch++) dst[ch * plane + p] = src[p * c + ch];
                }
            }
        }
        return (pixels, new ImageShape(n, h, w, c));
    }

    /// <summary>Reads an integer label array of shape (N,) or (N, 1), any integer dtype and byte order.</summary>
    public static int[] ReadLabels(string path)
    {
        byte[] file = DataFile.ReadAll(path);
        NpyHeader header = ParseHeader(file, path);
        Match m = DtypePattern().Match(header.Descr);
        if (!m.Success || m.Groups["kind"].Value is not ("i" or "u"))
            throw new DataFormatException(path, $"dtype '{header.Descr}', expected an integer dtype (i1, i2, i4, i8, u1, u2, u4, u8)");
        if (header.FortranOrder && header.Shape.Count > 1 && header.Shape[1] != 1)
            throw new DataFormatException(path, "fortran_order True, expected C order (fortran_order False)");
        if (!(header.Shape.Count == 1 || (header.Shape.Count == 2 && header.Shape[1] == 1)))
            throw new DataFormatException(path, $"shape {header.ShapeText}, expected (N,) or (N, 1)");
        if (header.Shape[0] == 0) throw new DataFormatException(path, "expected at least one label, found an empty set (shape " + header.ShapeText + ")");
        int size = int.Parse(m.Groups["size"].Value, CultureInfo.InvariantCulture);
        bool bigEndian = m.Groups["order"].Value == ">";
        bool signed = m.Groups["kind"].Value == "i";
        CheckSize(path, file, header, size);
        int n = (int)header.Shape[0];
        var labels = new int[n];
        ReadOnlySpan<byte> data = file.AsSpan(header.DataOffset);
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<byte> e = data.Slice(i * size, size);
            long value = (size, signed, bigEndian) switch
            {
                (1, true, _) => (sbyte)e[0],
                (1, false, _) => e[0],
                (2, true, false) => BinaryPrimitives.ReadInt16LittleEndian(e),
                (2, true, true) => BinaryPrimitives.ReadInt16BigEndian(e),
                (2, false, false) => BinaryPrimitives.ReadUInt16LittleEndian(e),
                (2, false, true) => BinaryPrimitives.ReadUInt16BigEndian(e),
                (4, true, false) => BinaryPrimitives.ReadInt32LittleEndian(e),
                (4, true, true) => BinaryPrimitives.ReadInt32BigEndian(e),
                (4, false, false) => BinaryPrimitives.ReadUInt32LittleEndian(e),
                (4, false, true) => BinaryPrimitives.ReadUInt32BigEndian(e),
                (8, true, false) => BinaryPrimitives.ReadInt64LittleEndian(e),
                (8, true, true) => BinaryPrimitives.ReadInt64BigEndian(e),
                (8, false, false) => (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(e), long.MaxValue),
                _ => (long)Math.Min(BinaryPrimitives.ReadUInt64BigEndian(e), long.MaxValue),
            };
            if (value < 0 || value > int.MaxValue)
                throw new DataFormatException(path, $"label {value} at index {i:N0} is out of range, expected a class index ≥ 0");
            labels[i] = (int)value;
        }
        return labels;
    }

    private static void CheckSize(string path, byte[] file, NpyHeader header, int elementSize)
    {
        long expected = header.DataOffset + header.ElementCount * elementSize;
        if (file.LongLength != expected)
            throw new DataFormatException(path,
                $"{file.LongLength:N0} bytes, expected {expected:N0} ({header.DataOffset}-byte header + {header.ElementCount:N0} elements × {elementSize} for shape {header.ShapeText})" +
                (file.LongLength < expected ? "; the file looks truncated" : ""));
    }

    /// <summary>
    /// Parses the header of a <c>.npy</c> file: magic <c>\x93NUMPY</c>, version byte pair, header length (2 bytes
    /// little-endian in version 1, 4 bytes in versions 2 and 3), then a Python dict literal with the keys
    /// <c>descr</c>, <c>fortran_order</c> and <c>shape</c>.
    /// </summary>
    public static NpyHeader ParseHeader(ReadOnlySpan<byte> file, string path)
    {
        ReadOnlySpan<byte> magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
        if (file.Length < 10 || !file[..6].SequenceEqual(magic))
            throw new DataFormatException(path, "expected a NumPy .npy file (magic \\x93NUMPY), found other bytes");
        byte major = file[6];
        int lengthBytes = major switch
        {
            1 => 2,
            2 or 3 => 4,
            _ => throw new DataFormatException(path, $".npy format version {major}.{file[7]}, expected 1.x, 2.x or 3.x"),
        };
        if (file.Length < 8 + lengthBytes) throw new DataFormatException(path, $"{file.Length} bytes, too short for a .npy header");
        long headerLength = lengthBytes == 2 ? BinaryPrimitives.ReadUInt16LittleEndian(file[8..]) : BinaryPrimitives.ReadUInt32LittleEndian(file[8..]);
        long dataOffset = 8 + lengthBytes + headerLength;
        if (dataOffset > file.Length)
            throw new DataFormatException(path, $"{file.Length:N0} bytes, expected at least {dataOffset:N0} for the header it announces; the file looks truncated");
        string text = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(file.Slice(8 + lengthBytes, (int)headerLength));

        Match descr = DescrPattern().Match(text);
        if (!descr.Success)
            throw new DataFormatException(path, $"header {text.Trim()}: expected a 'descr' key with a simple dtype string such as '|u1' or '<i8'");
        Match fortran = FortranPattern().Match(text);
        if (!fortran.Success)
            throw new DataFormatException(path, $"header {text.Trim()}: expected a 'fortran_order' key with True or False");
        Match shape = ShapePattern().Match(text);
        if (!shape.Success)
            throw new DataFormatException(path, $"header {text.Trim()}: expected a 'shape' key with a tuple of integers");
        var dims = new List<long>();
        foreach (string part in shape.Groups["dims"].Value.Split(','))
        {
            string d = part.Trim().TrimEnd('L', 'l');
            if (d.Length == 0) continue;
            if (!long.TryParse(d, NumberStyles.None, CultureInfo.InvariantCulture, out long value))
                throw new DataFormatException(path, $"shape ({shape.Groups["dims"].Value}): expected non-negative integers, found '{part.Trim()}'");
            dims.Add(value);
        }
        return new NpyHeader(descr.Groups["descr"].Value, fortran.Groups["value"].Value == "True", dims, (int)dataOffset);
    }

    [GeneratedRegex(@"['""]descr['""]\s*:\s*['""](?<descr>[^'""]*)['""]")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"['""]fortran_order['""]\s*:\s*(?<value>True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"['""]shape['""]\s*:\s*\((?<dims>[^)]*)\)")]
    private static partial Regex ShapePattern();

    [GeneratedRegex(@"^(?<order>[<>|=]?)(?<kind>[a-zA-Z])(?<size>[1248])$")]
    private static partial Regex DtypePattern();
}
