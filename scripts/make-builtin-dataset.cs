// Makes the embedded default dataset of SharpNas.Data (`builtin`): a class-balanced subset of Fashion-MNIST,
// 1,000 training images per class (10,000) and 200 test images per class (2,000), written as gzip-compressed
// IDX files. Deterministic: the same source files give byte-identical output.
//
//   dotnet run scripts/make-builtin-dataset.cs -- SRC_DIR OUT_DIR
//
// SRC_DIR holds the official Fashion-MNIST files (train-images-idx3-ubyte[.gz], …); OUT_DIR is normally
// src/SharpNas.Data/Builtin/fashion-mnist-subset. Images keep their official relative order.
#:project ../src/SharpNas.Data/SharpNas.Data.csproj

using System.IO.Compression;
using SharpNas.Data;
using SharpNas.Engine;

if (args.Length != 2)
{
    Console.Error.WriteLine("usage: dotnet run scripts/make-builtin-dataset.cs -- SRC_DIR OUT_DIR");
    return 2;
}

try
{
    DatasetPair full = IdxReader.ReadDataset(args[0], "fashion-mnist", IdxReader.FashionMnistClassNames);
    var root = new SeededRandom(BuiltinDataset.SelectionSeed);
    ImageDataset train = BalancedSubset(full.Train, BuiltinDataset.TrainCount / 10, root.Derive("builtin/train"));
    ImageDataset test = BalancedSubset(full.Test, BuiltinDataset.TestCount / 10, root.Derive("builtin/test"));
    Directory.CreateDirectory(args[1]);
    Write(Path.Combine(args[1], "train-images-idx3-ubyte.gz"), s => IdxWriter.WriteImages(s, train));
    Write(Path.Combine(args[1], "train-labels-idx1-ubyte.gz"), s => IdxWriter.WriteLabels(s, train));
    Write(Path.Combine(args[1], "t10k-images-idx3-ubyte.gz"), s => IdxWriter.WriteImages(s, test));
    Write(Path.Combine(args[1], "t10k-labels-idx1-ubyte.gz"), s => IdxWriter.WriteLabels(s, test));
    Console.WriteLine($"{train}\n{test}");
    return 0;
}
catch (DataFormatException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

// Per class: shuffle that class's indices, keep the first `perClass`; then sort all kept indices so the
// subset follows the official order.
static ImageDataset BalancedSubset(ImageDataset source, int perClass, SeededRandom random)
{
    var kept = new List<int>();
    for (int c = 0; c < source.ClassCount; c++)
    {
        int[] members = Enumerable.Range(0, source.Count).Where(i => source.Labels[i] == c).ToArray();
        if (members.Length < perClass)
            throw new DataFormatException(source.Name, $"class {c} has {members.Length} images, expected at least {perClass}");
        random.Shuffle(members.AsSpan());
        kept.AddRange(members.Take(perClass));
    }
    kept.Sort();
    return source.Subset(kept.ToArray());
}

static void Write(string path, Action<Stream> write)
{
    using var buffer = new MemoryStream();
    write(buffer);
    using (var file = File.Create(path))
    using (var gzip = new GZipStream(file, CompressionLevel.SmallestSize))
    {
        gzip.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
    Console.WriteLine($"{Path.GetFileName(path)}: {buffer.Length:N0} bytes, {new FileInfo(path).Length:N0} compressed");
}
