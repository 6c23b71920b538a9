using SharpNas.Data;
using Xunit.Abstractions;

namespace SharpNas.Tests.Data;

/// <summary>Reads the real datasets in ../shared/datasets (see its README for the expected counts).</summary>
public sealed class SharedDatasetTests(ITestOutputHelper output)
{
    [Fact]
    public void FashionMnist_Full_60000Train10000Test_6000And1000PerClass()
    {
        if (SharedDatasets.Folder("fashion-mnist", output) is not string folder) return;
        DatasetPair pair = DataSpec.Parse("fashion-mnist:" + folder).Load();
        Assert.Equal(60_000, pair.Train.Count);
        Assert.Equal(10_000, pair.Test.Count);
        Assert.Equal((1, 28, 28), (pair.Train.Channels, pair.Train.Height, pair.Train.Width));
        Assert.Equal(Enumerable.Repeat(6_000, 10), pair.Train.CountPerClass());
        Assert.Equal(Enumerable.Repeat(1_000, 10), pair.Test.CountPerClass());
        Assert.Equal(9, pair.Train.Labels[0]); // official first training label: Ankle boot
        Assert.Equal(0, pair.Train.Pixels.Min());
        Assert.Equal(255, pair.Train.Pixels.Max());
    }

    [Fact]
    public void Builtin_IsASubsetOfTheRealFashionMnist_WithTheSameLabels()
    {
        if (SharedDatasets.Folder("fashion-mnist", output) is not string folder) return;
        DatasetPair full = DataSpec.Parse("fashion-mnist:" + folder).Load();
        DatasetPair builtin = BuiltinDataset.Load();
        foreach (var (small, large) in new[] { (builtin.Train, full.Train), (builtin.Test, full.Test) })
        {
            var labelsByImage = new Dictionary<string, int>();
            for (int i = 0; i < large.Count; i++) labelsByImage[Convert.ToBase64String(large.Image(i))] = large.Labels[i];
            for (int i = 0; i < small.Count; i++)
            {
                Assert.True(labelsByImage.TryGetValue(Convert.ToBase64String(small.Image(i)), out int label), $"{small.Name} image {i} is not in {large.Name}");
                Assert.Equal(label, small.Labels[i]);
            }
        }
    }

    [Fact]
    public void Cifar10JpegDerived_50000Train10000Test_CountsAsInTheReadme()
    {
        if (SharedDatasets.Folder("cifar-10-jpeg-derived", output) is not string folder) return;
        DatasetPair pair = DataSpec.Parse("cifar10:" + folder).Load();
        Assert.Equal(50_000, pair.Train.Count);
        Assert.Equal(10_000, pair.Test.Count);
        Assert.Equal((3, 32, 32), (pair.Train.Channels, pair.Train.Height, pair.Train.Width));
        Assert.Equal(["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"], pair.Train.ClassNames);
        Assert.Equal(Enumerable.Repeat(5_000, 10), pair.Train.CountPerClass());
        Assert.Equal(Enumerable.Repeat(1_000, 10), pair.Test.CountPerClass());
        int[] firstBatch = new int[10];
        foreach (int label in pair.Train.Labels.AsSpan(0, 10_000)) firstBatch[label]++;
        Assert.Equal([1005, 974, 1032, 1016, 999, 937, 1030, 1001, 1025, 981], firstBatch);
        Assert.Equal(6, pair.Train.Labels[0]); // official first training image: a frog
        // Test records 1000.. cycle over the classes (see the README).
        Assert.Equal(Enumerable.Range(0, 10), pair.Test.Labels.Skip(1000).Take(10));
        ChannelStatistics stats = ChannelStatistics.Compute(pair.Train);
        Assert.InRange(stats.Mean[0], 0.47f, 0.51f); // CIFAR-10 red mean ≈ 0.491
        Assert.InRange(stats.Std[2], 0.24f, 0.28f);  // blue std ≈ 0.262
    }
}
