namespace SharpNas.Data;

/// <summary>
/// Reads the CIFAR-10 and CIFAR-100 "binary version" files. Each file is a sequence of records without a header:
/// the label byte(s), then 1,024 red, 1,024 green and 1,024 blue bytes (each plane a 32×32 image, row-major).
/// Every file may also be gzip-compressed (<c>name.bin.gz</c>).
/// </summary>
public static class CifarReader
{
    /// <summary>Image side in pixels.</summary>
    public const int Side = 32;

    /// <summary>Pixel bytes per record (3×32×32).</summary>
    public const int PixelBytes = 3 * Side * Side;

    /// <summary>CIFAR-10 training files, in order.</summary>
    public static IReadOnlyList<string> Cifar10TrainFiles { get; } = ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"];

    /// <summary>The CIFAR-10 test file.</summary>
    public const string Cifar10TestFile = "test_batch.bin";

    /// <summary>CIFAR-10 class names in label order (used when <c>batches.meta.txt</c> is absent).</summary>
    public static IReadOnlyList<string> Cifar10ClassNames { get; } =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    /// <summary>CIFAR-100 fine class names in label order (used when <c>fine_label_names.txt</c> is absent).</summary>
    public static IReadOnlyList<string> Cifar100ClassNames { get; } =
    [
        "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle", "bottle",
        "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle", "caterpillar", "cattle",
        "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch", "crab", "crocodile", "cup", "dinosaur",
        "dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster", "house", "kangaroo", "keyboard",
        "lamp", "lawn_mower", "leopard", "lion", "lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain",
        "mouse", "mushroom", "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear", "pickup_truck", "pine_tree",
        "plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon", "ray", "road", "rocket",
        "rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail", "snake", "spider",
        "squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank", "telephone", "television", "tiger", "tractor",
        "train", "trout", "tulip", "turtle", "wardrobe", "whale", "willow_tree", "wolf", "woman", "worm",
    ];

    /// <summary>
    /// Reads CIFAR-10 from <paramref name="directory"/>: <c>data_batch_1.bin</c> … <c>data_batch_5.bin</c> (train, in
    /// that order) and <c>test_batch.bin</c>, each plain or <c>.gz</c>; class names from <c>batches.meta.txt</c> when present.
    /// A folder holding <c>cifar-10-batches-bin/</c> is accepted too. Records: 1 label byte (0..9) + 3,072 pixel bytes.
    /// </summary>
    public static DatasetPair ReadCifar10(string directory)
    {
        DataFile.RequireDirectory(directory, "the CIFAR-10 binary files (data_batch_1..5.bin, test_batch.bin)");
        directory = Descend(directory, "data_batch_1.bin", "cifar-10-batches-bin");
        string[] train = Cifar10TrainFiles.Select(f => DataFile.Require(directory, f)).ToArray();
        string test = DataFile.Require(directory, Cifar10TestFile);
        IReadOnlyList<string> names = DataFile.ReadClassNames(directory, "batches.meta.txt", 10) ?? Cifar10ClassNames;
        return new DatasetPair(
            ReadFiles("cifar10/train", train, officialRecords: 10_000, labelBytes: 1, labelIndex: 0, names),
            ReadFiles("cifar10/test", [test], officialRecords: 10_000, labelBytes: 1, labelIndex: 0, names));
    }

    /// <summary>
    /// Reads CIFAR-100 from <paramref name="directory"/>: <c>train.bin</c> and <c>test.bin</c> (plain or <c>.gz</c>);
    /// records: 2 label bytes (coarse, fine) + 3,072 pixel bytes; the fine label (0..99) is used. Class names from
    /// <c>fine_label_names.txt</c> when present. A folder holding <c>cifar-100-binary/</c> is accepted too.
    /// </summary>
    public static DatasetPair ReadCifar100(string directory)
    {
        DataFile.RequireDirectory(directory, "the CIFAR-100 binary files (train.bin, test.bin)");
        directory = Descend(directory, "train.bin", "cifar-100-binary");
        string train = DataFile.Require(directory, "train.bin");
        string test = DataFile.Require(directory, "test.bin");
        IReadOnlyList<string> names = DataFile.ReadClassNames(directory, "fine_label_names.txt", 100) ?? Cifar100ClassNames;
        return new DatasetPair(
            ReadFiles("cifar100/train", [train], officialRecords: 50_000, labelBytes: 2, labelIndex: 1, names),
            ReadFiles("cifar100/test", [test], officialRecords: 10_000, labelBytes: 2, labelIndex: 1, names));
    }

    private static string Descend(string directory, string marker, string subfolder)
    {
        if (DataFile.Find(directory, marker) is null && Directory.Exists(Path.Combine(directory, subfolder)))
            return Path.Combine(directory, subfolder);
        return directory;
    }

    /// <summary>Reads and concatenates CIFAR record files (each a whole number of records).</summary>
    internal static ImageDataset ReadFiles(string name, IReadOnlyList<string> paths, int officialRecords, int labelBytes, int labelIndex, IReadOnlyList<string> classNames)
    {
        int recordSize = labelBytes + PixelBytes;
        var contents = new List<byte[]>(paths.Count);
        long total = 0;
        foreach (string path in paths)
        {
            byte[] bytes = DataFile.ReadAll(path);
            if (bytes.Length == 0)
                throw new DataFormatException(path, $"expected {recordSize:N0}-byte records ({labelBytes} label byte(s) + {PixelBytes:N0} pixels), found an empty file");
            if (bytes.Length % recordSize != 0)
            {
                throw new DataFormatException(path,
                    $"{bytes.Length:N0} bytes, expected {officialRecords * recordSize:N0} ({officialRecords:N0} records × {recordSize:N0}, as in the official release) " +
                    $"or at least a whole number of {recordSize:N0}-byte records; the file looks truncated");
            }
            contents.Add(bytes);
            total += bytes.Length / recordSize;
        }
        if (total > int.MaxValue / PixelBytes) throw new DataFormatException(name, $"too many images ({total:N0})");
        var pixels = new byte[total * PixelBytes];
        var labels = new int[total];
        int image = 0;
        for (int f = 0; f < contents.Count; f++)
        {
            byte[] bytes = contents[f];
            int records = bytes.Length / recordSize;
            for (int r = 0; r < records; r++, image++)
            {
                int offset = r * recordSize;
                int label = bytes[offset + labelIndex];
                if (label >= classNames.Count)
                    throw new DataFormatException(paths[f], $"record {r:N0}: label {label} is out of range, expected 0..{classNames.Count - 1}");
                labels[image] = label;
                bytes.AsSpan(offset + labelBytes, PixelBytes).CopyTo(pixels.AsSpan(image * PixelBytes, PixelBytes));
            }
        }
        return new ImageDataset(name, 3, Side, Side, classNames, pixels, labels);
    }
}
