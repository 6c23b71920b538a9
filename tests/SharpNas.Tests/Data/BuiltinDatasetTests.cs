using SharpNas.Data;

namespace SharpNas.Tests.Data;

public sealed class BuiltinDatasetTests
{
    [Fact]
    public void Builtin_Has10000TrainAnd2000TestImages_BalancedOverTenClasses()
    {
        DatasetPair pair = DataSpec.Parse("builtin").Load();
        Assert.Equal(10_000, pair.Train.Count);
        Assert.Equal(2_000, pair.Test.Count);
        Assert.Equal((1, 28, 28), (pair.Train.Channels, pair.Train.Height, pair.Train.Width));
        Assert.Equal(Enumerable.Repeat(1_000, 10), pair.Train.CountPerClass());
        Assert.Equal(Enumerable.Repeat(200, 10), pair.Test.CountPerClass());
        Assert.Equal("Ankle boot", pair.Train.ClassNames[9]);
    }

    [Fact]
    public void Builtin_ImagesAreRealPictures_NotBlankOrConstant()
    {
        ImageDataset train = BuiltinDataset.Load().Train;
        ChannelStatistics stats = ChannelStatistics.Compute(train);
        // Fashion-MNIST: mean ≈ 0.286, std ≈ 0.353 in [0, 1] units.
        Assert.InRange(stats.Mean[0], 0.25f, 0.32f);
        Assert.InRange(stats.Std[0], 0.32f, 0.38f);
        Assert.Equal(train.Count, Enumerable.Range(0, train.Count).Select(i => Convert.ToHexString(train.Image(i))).Distinct().Count());
    }
}
