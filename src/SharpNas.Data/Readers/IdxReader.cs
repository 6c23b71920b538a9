using System.Buffers.Binary;

namespace SharpNas.Data;

/// <summary>
/// Reads the IDX files of MNIST and Fashion-MNIST (plain or <c>.gz</c>). All header integers are big-endian:
/// images = magic <c>0x00000803</c>, count, rows, columns, then count×rows×columns bytes (row-major);
/// labels = magic <c>0x00000801</c>, count, then count bytes.
/// </summary>
public static class IdxReader
{
    /// <summary>Magic number of an unsigned-byte, 3-dimensional IDX file (images).</summary>
    public const uint ImagesMagic = 0x00000803;

    /// <summary>Magic number of an unsigned-byte, 1-dimensional IDX file (labels).</summary>
    public const uint LabelsMagic = 0x00000801;

    /// <summary>Fashion-MNIST class names in label order.</summary>
    public static IReadOnlyList<string> FashionMnistClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>MNIST class names (the digits) in label order.</summary>
    public static IReadOnlyList<string> MnistClassNames { get; } = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    /// <summary>
    /// Reads a train/test pair from <paramref name="directory"/>: <c>train-images-idx3-ubyte</c>,
    /// <c>train-labels-idx1-ubyte</c>, <c>t10k-images-idx3-ubyte</c>, <c>t10k-labels-idx1-ubyte</c> (each plain or
    /// <c>.gz</c>; the variant spelling <c>train-images.idx3-ubyte</c> is accepted too).
    /// </summary>
    public static DatasetPair ReadDataset(string directory, string name, IReadOnlyList<string> classNames)
    {
        DataFile.RequireDirectory(directory, "the IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-…)");
        ImageDataset Split(string prefix) => Read(
            name + "/" + (prefix == "t10k" ? "test" : "train"),
            DataFile.Require(directory, $"{prefix}-images-idx3-ubyte", $"{prefix}-images.idx3-ubyte"),
            DataFile.Require(directory, $"{prefix}-labels-idx1-ubyte", $"{prefix}-labels.idx1-ubyte"),
            classNames);
        return new DatasetPair(Split("train"), Split("t10k"));
    }

    /// <summary>Reads one image file and its label file into a dataset.</summary>
    public static ImageDataset Read(string name, string imagesPath, string labelsPath, IReadOnlyList<string> classNames) =>
        Parse(name, DataFile.ReadAll(imagesPath), imagesPath, DataFile.ReadAll(labelsPath), labelsPath, classNames);

    /// <summary>Parses the decompressed bytes of an image file and a label file; the paths are used in errors.</summary>
    public static ImageDataset Parse(string name, byte[] images, string imagesPath, byte[] labels, string labelsPath, IReadOnlyList<string> classNames)
    {
        if (images.Length < 16)
            throw new DataFormatException(imagesPath, $"{images.Length:N0} bytes, expected at least a 16-byte IDX image header");
        uint magic = BinaryPrimitives.ReadUInt32BigEndian(images);
        if (magic != ImagesMagic)
            throw new DataFormatException(imagesPath, $"IDX magic 0x{magic:X8}, expected 0x{ImagesMagic:X8} (unsigned bytes, 3 dimensions)");
        uint count = BinaryPrimitives.ReadUInt32BigEndian(images.AsSpan(4));
        uint rows = BinaryPrimitives.ReadUInt32BigEndian(images.AsSpan(8));
        uint columns = BinaryPrimitives.ReadUInt32BigEndian(images.AsSpan(12));
        if (count == 0) throw new DataFormatException(imagesPath, "expected at least one image, found an empty set (count 0)");
        if (rows == 0 || columns == 0 || rows > 65536 || columns > 65536)
            throw new DataFormatException(imagesPath, $"image size {rows}×{columns}, expected positive sizes up to 65536");
        long expected = 16 + (long)count * rows * columns;
        if (images.LongLength != expected)
            throw new DataFormatException(imagesPath,
                $"{images.LongLength:N0} bytes, expected {expected:N0} (16-byte header + {count:N0} images × {rows}×{columns})" +
                (images.LongLength < expected ? "; the file looks truncated" : ""));

        if (labels.Length < 8)
            throw new DataFormatException(labelsPath, $"{labels.Length:N0} bytes, expected at least an 8-byte IDX label header");
        uint labelMagic = BinaryPrimitives.ReadUInt32BigEndian(labels);
        if (labelMagic != LabelsMagic)
            throw new DataFormatException(labelsPath, $"IDX magic 0x{labelMagic:X8}, expected 0x{LabelsMagic:X8} (unsigned bytes, 1 dimension)");
        uint labelCount = BinaryPrimitives.ReadUInt32BigEndian(labels.AsSpan(4));
        if (labelCount != count)
            throw new DataFormatException(labelsPath, $"{labelCount:N0} labels, expected {count:N0} (one per image in {DataFile.Name(imagesPath)})");
        if (labels.LongLength != 8 + (long)labelCount)
            throw new DataFormatException(labelsPath,
                $"{labels.LongLength:N0} bytes, expected {8 + (long)labelCount:N0} (8-byte header + {labelCount:N0} labels)" +
                (labels.LongLength < 8 + (long)labelCount ? "; the file looks truncated" : ""));

        var labelArray = new int[count];
        for (int i = 0; i < labelArray.Length; i++)
        {
            int label = labels[8 + i];
            if (label >= classNames.Count)
                throw new DataFormatException(labelsPath, $"label {label} at index {i:N0} is out of range, expected 0..{classNames.Count - 1}");
            labelArray[i] = label;
        }
        byte[] pixels = images.AsSpan(16).ToArray();
        return new ImageDataset(name, 1, (int)rows, (int)columns, classNames, pixels, labelArray);
    }
}

/// <summary>Writes single-channel datasets as IDX image and label files (used to make the embedded default set).</summary>
public static class IdxWriter
{
    /// <summary>Writes the images of a 1-channel dataset as an IDX image file (magic 0x00000803).</summary>
    public static void WriteImages(Stream destination, ImageDataset dataset)
    {
        if (dataset.Channels != 1)
            throw new ArgumentException($"dataset '{dataset.Name}': IDX image files hold one channel, found {dataset.Channels}", nameof(dataset));
        Span<byte> header = stackalloc byte[16];
        BinaryPrimitives.WriteUInt32BigEndian(header, IdxReader.ImagesMagic);
        BinaryPrimitives.WriteUInt32BigEndian(header[4..], (uint)dataset.Count);
        BinaryPrimitives.WriteUInt32BigEndian(header[8..], (uint)dataset.Height);
        BinaryPrimitives.WriteUInt32BigEndian(header[12..], (uint)dataset.Width);
        destination.Write(header);
        destination.Write(dataset.Pixels);
    }

    /// <summary>Writes the labels of a dataset (each below 256) as an IDX label file (magic 0x00000801).</summary>
    public static void WriteLabels(Stream destination, ImageDataset dataset)
    {
        if (dataset.ClassCount > 256)
            throw new ArgumentException($"dataset '{dataset.Name}': IDX label bytes hold up to 256 classes, found {dataset.ClassCount}", nameof(dataset));
        Span<byte> header = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(header, IdxReader.LabelsMagic);
        BinaryPrimitives.WriteUInt32BigEndian(header[4..], (uint)dataset.Count);
        destination.Write(header);
        var bytes = new byte[dataset.Count];
        for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)dataset.Labels[i];
        destination.Write(bytes);
    }
}
