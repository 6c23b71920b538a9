using SharpNas.Data;

namespace SharpNas.Tests.Data;

public sealed class ValidationSplitTests
{
    /// <summary>A set whose image i has its index in the first 4 bytes, so images can be traced through subsets.</summary>
    internal static ImageDataset Traceable(int count, int classes, int channels = 1, int side = 4, Func<int, int>? label = null)
    {
        int size = channels * side * side;
        var pixels = new byte[count * size];
        for (int i = 0; i < count; i++)
        {
            BitConverter.TryWriteBytes(pixels.AsSpan(i * size, 4), i);
            for (int p = 4; p < size; p++) pixels[i * size + p] = (byte)(i * 13 + p * 5);
        }
        int[] labels = Enumerable.Range(0, count).Select(label ?? (i => i % classes)).ToArray();
        return new ImageDataset("traceable", channels, side, side, Enumerable.Range(0, classes).Select(c => $"c{c}").ToArray(), pixels, labels);
    }

    internal static int Id(ImageDataset d, int i) => BitConverter.ToInt32(d.Image(i)[..4]);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Split_GivesRequestedSizes_DisjointAndCovering(bool stratified)
    {
        ImageDataset source = Traceable(1000, 10);
        DatasetSplit split = new ValidationSplit(ValidationSize.FromCount(137), Seed: 5, stratified).Apply(source);
        Assert.Equal(137, split.Validation.Count);
        Assert.Equal(863, split.Train.Count);
        int[] train = Enumerable.Range(0, split.Train.Count).Select(i => Id(split.Train, i)).ToArray();
        int[] validation = Enumerable.Range(0, split.Validation.Count).Select(i => Id(split.Validation, i)).ToArray();
        Assert.Empty(train.Intersect(validation));
        Assert.Equal(Enumerable.Range(0, 1000), train.Concat(validation).Order());
        Assert.All(train, id => Assert.Equal(source.Labels[id], split.Train.Labels[Array.IndexOf(train, id)]));
    }

    [Fact]
    public void Split_Fraction_RoundsToCount()
    {
        DatasetSplit split = new ValidationSplit(ValidationSize.Parse("0.1"), Seed: 1).Apply(Traceable(1005, 5));
        Assert.Equal(101, split.Validation.Count); // round(100.5) away from zero
        Assert.Equal(50, new ValidationSplit(ValidationSize.Parse("5%"), Seed: 1).Apply(Traceable(1000, 5)).Validation.Count);
    }

    [Fact]
    public void Split_Stratified_KeepsClassProportions()
    {
        // Unbalanced: class 0 has 600 images, class 1 has 300, class 2 has 100.
        ImageDataset source = Traceable(1000, 3, label: i => i < 600 ? 0 : i < 900 ? 1 : 2);
        DatasetSplit split = new ValidationSplit(ValidationSize.FromCount(100), Seed: 9).Apply(source);
        Assert.Equal([60, 30, 10], split.Validation.CountPerClass());
    }

    [Fact]
    public void Split_SameSeed_SameSplit_DifferentSeed_DifferentSplit()
    {
        ImageDataset source = Traceable(500, 10);
        int[] Ids(ulong seed)
        {
            ImageDataset v = new ValidationSplit(ValidationSize.FromCount(50), seed).Apply(source).Validation;
            return Enumerable.Range(0, v.Count).Select(i => Id(v, i)).ToArray();
        }
        Assert.Equal(Ids(42), Ids(42));
        Assert.NotEqual(Ids(42), Ids(43));
    }

    [Fact]
    public void Split_TooLarge_IsAnErrorNamingTheSizes()
    {
        var e = Assert.Throws<DataFormatException>(() => new ValidationSplit(ValidationSize.FromCount(100), 1).Apply(Traceable(100, 2)));
        Assert.Contains("100", e.Message);
        Assert.Contains("0..99", e.Message);
        Assert.Throws<DataFormatException>(() => ValidationSize.Parse("lots"));
    }
}
