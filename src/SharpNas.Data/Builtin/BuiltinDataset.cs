namespace SharpNas.Data;

/// <summary>
/// The dataset that ships inside SharpNas.Data (spec <c>builtin</c>): a class-balanced subset of the official
/// Fashion-MNIST release, 10,000 training images (1,000 per class) and 2,000 test images (200 per class),
/// 28×28 grayscale, stored as gzip-compressed IDX files embedded in the assembly. It is made by
/// <c>scripts/make-builtin-dataset.cs</c> from the full set (see <c>docs/data.md</c>).
/// </summary>
public static class BuiltinDataset
{
    /// <summary>Training images in the builtin set.</summary>
    public const int TrainCount = 10_000;

    /// <summary>Test images in the builtin set.</summary>
    public const int TestCount = 2_000;

    /// <summary>Seed of the subset selection in <c>scripts/make-builtin-dataset.cs</c>.</summary>
    public const ulong SelectionSeed = 20_170_831;

    /// <summary>Names of the embedded files, as written by the script.</summary>
    public static IReadOnlyList<string> FileNames { get; } =
        ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"];

    private const string ResourcePrefix = "SharpNas.Data.Builtin.";

    /// <summary>Loads the builtin train and test sets (decompresses about 9 MB; takes a fraction of a second).</summary>
    public static DatasetPair Load() => new(ReadSplit("train", "train"), ReadSplit("t10k", "test"));

    private static ImageDataset ReadSplit(string prefix, string split)
    {
        string images = $"{prefix}-images-idx3-ubyte.gz", labels = $"{prefix}-labels-idx1-ubyte.gz";
        return IdxReader.Parse("builtin/" + split, ReadResource(images), "builtin:" + images, ReadResource(labels), "builtin:" + labels,
            IdxReader.FashionMnistClassNames);
    }

    private static byte[] ReadResource(string fileName)
    {
        using Stream stream = typeof(BuiltinDataset).Assembly.GetManifestResourceStream(ResourcePrefix + fileName)
            ?? throw new DataFormatException("builtin:" + fileName, "expected an embedded resource in SharpNas.Data, found none (was the assembly built without Builtin/fashion-mnist-subset?)");
        return DataFile.Decompress(stream, "builtin:" + fileName);
    }
}
