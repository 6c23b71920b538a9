using SharpNas.Data;

namespace SharpNas.Tests.Data;

public sealed class ReaderTests
{
    private static int[] Labels(int count, int classes, int offset = 0) => Enumerable.Range(0, count).Select(i => (i + offset) % classes).ToArray();

    private static void WriteCifar10(TestFolder folder, bool gzip, int perBatch = 3)
    {
        for (int b = 1; b <= 5; b++)
            folder.Write($"data_batch_{b}.bin", SyntheticFiles.CifarRecords(Labels(perBatch, 10, b), firstImage: (b - 1) * perBatch), gzip);
        folder.Write("test_batch.bin", SyntheticFiles.CifarRecords(Labels(4, 10), firstImage: 100), gzip);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Cifar10_ReadsAllBatchesInOrder_PlainOrGzip(bool gzip)
    {
        using var folder = new TestFolder();
        WriteCifar10(folder, gzip);
        DatasetPair pair = CifarReader.ReadCifar10(folder.Path);

        Assert.Equal(15, pair.Train.Count);
        Assert.Equal(4, pair.Test.Count);
        Assert.Equal((3, 32, 32, 10), (pair.Train.Channels, pair.Train.Height, pair.Train.Width, pair.Train.ClassCount));
        Assert.Equal([1, 2, 3, 2, 3, 4], pair.Train.Labels.Take(6));
        Assert.Equal("airplane", pair.Train.ClassNames[0]);
        for (int i = 0; i < 15; i++)
        {
            ReadOnlySpan<byte> image = pair.Train.Image(i);
            Assert.Equal(SyntheticFiles.Pixel(i, 0), image[0]);
            Assert.Equal(SyntheticFiles.Pixel(i, 1024 + 33), image[1024 + 33]); // green plane, row 1, column 1
            Assert.Equal(SyntheticFiles.Pixel(i, 3071), image[3071]);
        }
        Assert.Equal(SyntheticFiles.Pixel(102, 5), pair.Test.Image(2)[5]);
    }

    [Fact]
    public void Cifar10_ClassNamesFromMetaFile_SkipBlankLines()
    {
        using var folder = new TestFolder();
        WriteCifar10(folder, gzip: false);
        folder.Write("batches.meta.txt", System.Text.Encoding.UTF8.GetBytes("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n"));
        Assert.Equal(["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"], CifarReader.ReadCifar10(folder.Path).Train.ClassNames);
    }

    [Fact]
    public void Cifar10_TruncatedFile_ErrorNamesFileAndSizes()
    {
        using var folder = new TestFolder();
        WriteCifar10(folder, gzip: false);
        byte[] whole = SyntheticFiles.CifarRecords(Labels(3, 10));
        folder.Write("data_batch_3.bin", whole.AsSpan(0, whole.Length - 100).ToArray());

        var e = Assert.Throws<DataFormatException>(() => CifarReader.ReadCifar10(folder.Path));
        Assert.Contains("data_batch_3.bin", e.Message);
        Assert.Contains("9,119 bytes", e.Message);       // 3 × 3,073 − 100
        Assert.Contains("30,730,000", e.Message);        // the official size
        Assert.Contains("3,073-byte records", e.Message);
    }

    [Fact]
    public void Cifar10_LabelOutOfRange_ErrorNamesFileRecordAndRange()
    {
        using var folder = new TestFolder();
        WriteCifar10(folder, gzip: true);
        folder.Write("test_batch.bin", SyntheticFiles.CifarRecords([0, 1, 10]), gzip: true);
        var e = Assert.Throws<DataFormatException>(() => CifarReader.ReadCifar10(folder.Path));
        Assert.Contains("test_batch.bin.gz", e.Message);
        Assert.Contains("record 2", e.Message);
        Assert.Contains("label 10", e.Message);
        Assert.Contains("0..9", e.Message);
    }

    [Fact]
    public void Cifar10_MissingBatch_ErrorNamesTheFile()
    {
        using var folder = new TestFolder();
        WriteCifar10(folder, gzip: false);
        File.Delete(Path.Combine(folder.Path, "data_batch_4.bin"));
        var e = Assert.Throws<DataFormatException>(() => CifarReader.ReadCifar10(folder.Path));
        Assert.Contains("data_batch_4.bin", e.Message);
    }

    [Fact]
    public void Cifar10_EmptyFile_IsAnError()
    {
        using var folder = new TestFolder();
        WriteCifar10(folder, gzip: false);
        folder.Write("test_batch.bin", []);
        var e = Assert.Throws<DataFormatException>(() => CifarReader.ReadCifar10(folder.Path));
        Assert.Contains("test_batch.bin", e.Message);
        Assert.Contains("empty", e.Message);
    }

    [Fact]
    public void MissingFolder_ErrorNamesTheFolder()
    {
        string missing = Path.Combine(Path.GetTempPath(), "sharpnas-no-such-folder-" + Guid.NewGuid().ToString("N"));
        var e = Assert.Throws<DataFormatException>(() => CifarReader.ReadCifar10(missing));
        Assert.Contains(missing, e.Message);
        Assert.Contains("no such folder", e.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Cifar100_UsesFineLabel_PlainOrGzip(bool gzip)
    {
        using var folder = new TestFolder();
        folder.Write("train.bin", SyntheticFiles.CifarRecords([5, 99, 42], labelBytes: 2, labelIndex: 1), gzip);
        folder.Write("test.bin", SyntheticFiles.CifarRecords([7], labelBytes: 2, labelIndex: 1, firstImage: 50), gzip);
        DatasetPair pair = CifarReader.ReadCifar100(folder.Path);
        Assert.Equal([5, 99, 42], pair.Train.Labels);
        Assert.Equal(100, pair.Train.ClassCount);
        Assert.Equal("worm", pair.Train.ClassNames[99]);
        Assert.Equal(SyntheticFiles.Pixel(1, 2000), pair.Train.Image(1)[2000]);
        Assert.Equal(SyntheticFiles.Pixel(50, 7), pair.Test.Image(0)[7]);
    }

    [Fact]
    public void Cifar100_TruncatedFile_ErrorNamesFileAndSizes()
    {
        using var folder = new TestFolder();
        folder.Write("train.bin", SyntheticFiles.CifarRecords([1, 2], labelBytes: 2, labelIndex: 1).AsSpan(0, 5000).ToArray());
        folder.Write("test.bin", SyntheticFiles.CifarRecords([7], labelBytes: 2, labelIndex: 1));
        var e = Assert.Throws<DataFormatException>(() => CifarReader.ReadCifar100(folder.Path));
        Assert.Contains("train.bin", e.Message);
        Assert.Contains("5,000 bytes", e.Message);
        Assert.Contains("153,700,000", e.Message); // 50,000 × 3,074
    }

    private static void WriteIdx(TestFolder folder, bool gzip, int train = 6, int test = 3)
    {
        folder.Write("train-images-idx3-ubyte", SyntheticFiles.IdxImages(train, 4, 5), gzip);
        folder.Write("train-labels-idx1-ubyte", SyntheticFiles.IdxLabels(Labels(train, 10, 3)), gzip);
        folder.Write("t10k-images-idx3-ubyte", SyntheticFiles.IdxImages(test, 4, 5), gzip);
        folder.Write("t10k-labels-idx1-ubyte", SyntheticFiles.IdxLabels(Labels(test, 10)), gzip);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Idx_ReadsImagesAndLabels_PlainOrGzip(bool gzip)
    {
        using var folder = new TestFolder();
        WriteIdx(folder, gzip);
        DatasetPair pair = DataSpec.Parse("fashion-mnist:" + folder.Path).Load();
        Assert.Equal((6, 1, 4, 5), (pair.Train.Count, pair.Train.Channels, pair.Train.Height, pair.Train.Width));
        Assert.Equal(3, pair.Test.Count);
        Assert.Equal([3, 4, 5, 6, 7, 8], pair.Train.Labels);
        Assert.Equal("Trouser", pair.Train.ClassNames[1]);
        Assert.Equal(SyntheticFiles.Pixel(4, 13), pair.Train.Image(4)[13]);
        Assert.Equal("7", DataSpec.Parse("mnist:" + folder.Path).Load().Test.ClassNames[7]);
    }

    [Fact]
    public void Idx_TruncatedImages_ErrorNamesFileAndSizes()
    {
        using var folder = new TestFolder();
        WriteIdx(folder, gzip: true);
        byte[] images = SyntheticFiles.IdxImages(6, 4, 5);
        folder.Write("train-images-idx3-ubyte", images.AsSpan(0, 100).ToArray(), gzip: true);
        var e = Assert.Throws<DataFormatException>(() => IdxReader.ReadDataset(folder.Path, "mnist", IdxReader.MnistClassNames));
        Assert.Contains("train-images-idx3-ubyte.gz", e.Message);
        Assert.Contains("100 bytes", e.Message);
        Assert.Contains("expected 136", e.Message); // 16 + 6 × 4 × 5
    }

    [Fact]
    public void Idx_LabelOutOfRange_ErrorNamesFileIndexAndRange()
    {
        using var folder = new TestFolder();
        WriteIdx(folder, gzip: false);
        folder.Write("t10k-labels-idx1-ubyte", SyntheticFiles.IdxLabels([0, 12, 1]));
        var e = Assert.Throws<DataFormatException>(() => IdxReader.ReadDataset(folder.Path, "mnist", IdxReader.MnistClassNames));
        Assert.Contains("t10k-labels-idx1-ubyte", e.Message);
        Assert.Contains("label 12 at index 1", e.Message);
        Assert.Contains("0..9", e.Message);
    }

    [Fact]
    public void Idx_LabelCountMismatch_And_WrongMagic_AreErrors()
    {
        using var folder = new TestFolder();
        WriteIdx(folder, gzip: false);
        folder.Write("train-labels-idx1-ubyte", SyntheticFiles.IdxLabels([1, 2]));
        var e = Assert.Throws<DataFormatException>(() => IdxReader.ReadDataset(folder.Path, "mnist", IdxReader.MnistClassNames));
        Assert.Contains("2 labels, expected 6", e.Message);

        folder.Write("train-labels-idx1-ubyte", SyntheticFiles.IdxImages(6, 1, 1));
        e = Assert.Throws<DataFormatException>(() => IdxReader.ReadDataset(folder.Path, "mnist", IdxReader.MnistClassNames));
        Assert.Contains("magic 0x00000803, expected 0x00000801", e.Message);
    }

    [Fact]
    public void Idx_EmptySet_IsAnError()
    {
        using var folder = new TestFolder();
        WriteIdx(folder, gzip: false);
        folder.Write("t10k-images-idx3-ubyte", SyntheticFiles.IdxImages(0, 4, 5));
        folder.Write("t10k-labels-idx1-ubyte", SyntheticFiles.IdxLabels([]));
        var e = Assert.Throws<DataFormatException>(() => IdxReader.ReadDataset(folder.Path, "mnist", IdxReader.MnistClassNames));
        Assert.Contains("t10k-images-idx3-ubyte", e.Message);
        Assert.Contains("empty", e.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Npy_ReadsChannelsLastImagesAsPlanar_PlainOrGzip(bool gzip)
    {
        using var folder = new TestFolder();
        folder.Write("train_images.npy", SyntheticFiles.NpyImagesHwc(4, 3, 5, 3), gzip);
        folder.Write("train_labels.npy", SyntheticFiles.NpyLabelsInt64([0, 1, 2, 1]), gzip);
        folder.Write("test_images.npy", SyntheticFiles.NpyImagesHwc(2, 3, 5, 3), gzip);
        folder.Write("test_labels.npy", SyntheticFiles.NpyLabelsInt64([2, 0]), gzip);
        DatasetPair pair = DataSpec.Parse("npy:" + folder.Path).Load();
        Assert.Equal((4, 3, 3, 5, 3), (pair.Train.Count, pair.Train.Channels, pair.Train.Height, pair.Train.Width, pair.Train.ClassCount));
        Assert.Equal(["0", "1", "2"], pair.Train.ClassNames);
        for (int i = 0; i < 4; i++)
        {
            for (int p = 0; p < 45; p++) Assert.Equal(SyntheticFiles.Pixel(i, p), pair.Train.Image(i)[p]);
        }
        Assert.Equal([2, 0], pair.Test.Labels);
    }

    [Fact]
    public void Npy_GrayscaleImagesAndClassNamesFile()
    {
        using var folder = new TestFolder();
        var gray = new byte[2 * 2 * 3];
        for (int i = 0; i < gray.Length; i++) gray[i] = (byte)(i * 10);
        folder.Write("train_images.npy", SyntheticFiles.Npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2, 3), }", gray));
        folder.Write("train_labels.npy", SyntheticFiles.Npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }", [3, 0]));
        folder.Write("test_images.npy", SyntheticFiles.Npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2, 3), }", gray));
        folder.Write("test_labels.npy", SyntheticFiles.Npy("{'descr': '>i2', 'fortran_order': False, 'shape': (2, 1), }", [0, 1, 0, 3]));
        folder.Write("class_names.txt", System.Text.Encoding.UTF8.GetBytes("w\nx\ny\nz\n"));
        DatasetPair pair = NpyReader.ReadDataset(folder.Path);
        Assert.Equal((1, 2, 3), (pair.Train.Channels, pair.Train.Height, pair.Train.Width));
        Assert.Equal(gray, pair.Train.Pixels);
        Assert.Equal([1, 3], pair.Test.Labels);
        Assert.Equal(["w", "x", "y", "z"], pair.Test.ClassNames);
    }

    [Fact]
    public void Npy_LabelOutOfRangeOfClassNames_And_NegativeLabel_AreErrors()
    {
        using var folder = new TestFolder();
        folder.Write("train_images.npy", SyntheticFiles.NpyImagesHwc(2, 2, 2, 1));
        folder.Write("train_labels.npy", SyntheticFiles.NpyLabelsInt64([0, 5]));
        folder.Write("test_images.npy", SyntheticFiles.NpyImagesHwc(1, 2, 2, 1));
        folder.Write("test_labels.npy", SyntheticFiles.NpyLabelsInt64([1]));
        folder.Write("class_names.txt", System.Text.Encoding.UTF8.GetBytes("a\nb\n"));
        var e = Assert.Throws<DataFormatException>(() => NpyReader.ReadDataset(folder.Path));
        Assert.Contains("train_labels.npy", e.Message);
        Assert.Contains("label 5 at index 1", e.Message);
        Assert.Contains("0..1", e.Message);

        folder.Write("train_labels.npy", SyntheticFiles.NpyLabelsInt64([0, -1]));
        e = Assert.Throws<DataFormatException>(() => NpyReader.ReadDataset(folder.Path));
        Assert.Contains("label -1 at index 1", e.Message);
    }

    [Fact]
    public void Npy_TruncatedData_ErrorNamesFileAndSizes()
    {
        using var folder = new TestFolder();
        byte[] images = SyntheticFiles.NpyImagesHwc(4, 3, 5, 3);
        string path = folder.Write("images.npy", images.AsSpan(0, images.Length - 10).ToArray());
        var e = Assert.Throws<DataFormatException>(() => NpyReader.ReadImages(path));
        Assert.Contains("images.npy", e.Message);
        Assert.Contains($"{images.Length - 10} bytes, expected {images.Length}", e.Message);
    }

    [Fact]
    public void Npy_ChannelsFirstImages_ErrorSuggestsTranspose()
    {
        using var folder = new TestFolder();
        string path = folder.Write("images.npy", SyntheticFiles.Npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3, 8, 8), }", new byte[2 * 3 * 64]));
        var e = Assert.Throws<DataFormatException>(() => NpyReader.ReadImages(path));
        Assert.Contains("(2, 3, 8, 8)", e.Message);
        Assert.Contains("channels-first", e.Message);
    }

    [Fact]
    public void Npy_FloatImages_ErrorNamesDtype()
    {
        using var folder = new TestFolder();
        string path = folder.Write("images.npy", SyntheticFiles.Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 2), }", new byte[16]));
        var e = Assert.Throws<DataFormatException>(() => NpyReader.ReadImages(path));
        Assert.Contains("'<f4'", e.Message);
        Assert.Contains("'|u1'", e.Message);
    }
}
