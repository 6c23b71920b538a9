using SharpNas.Engine;
using SharpNas.Search.Importance;

namespace SharpNas.Tests.Search.Importance;

public sealed class StageFeaturesTests
{
    private static Tensor Ramp(int n, int c, int h, int w)
    {
        var data = new float[n * c * h * w];
        for (int i = 0; i < data.Length; i++) data[i] = i % 97 * 0.25f - 3;
        return Tensor.FromArray(data, n, c, h, w);
    }

    private static double Mean(Tensor t, int s, int c, int r0, int r1, int c0, int c1)
    {
        int ch = t.Dim(1), h = t.Dim(2), w = t.Dim(3);
        double sum = 0;
        for (int r = r0; r < r1; r++) for (int k = c0; k < c1; k++) sum += t.Span[((s * ch + c) * h + r) * w + k];
        return sum / ((r1 - r0) * (c1 - c0));
    }

    [Fact]
    public void DivisibleSizeUsesWindowEqualStrideAndChannelMajorOrder()
    {
        Tensor t = Ramp(2, 3, 8, 8);
        FeatureMatrix f = StageFeatures.Pool(t);
        Assert.Equal((2, 3 * 16), (f.Rows, f.Columns));
        for (int s = 0; s < 2; s++)
            for (int c = 0; c < 3; c++)
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < 4; j++)
                        Assert.Equal(Mean(t, s, c, 2 * i, 2 * i + 2, 2 * j, 2 * j + 2), f[s, c * 16 + i * 4 + j], 5);
    }

    [Fact]
    public void SevenBySevenUsesPyTorchAdaptiveBins()
    {
        Tensor t = Ramp(1, 2, 7, 7);
        FeatureMatrix f = StageFeatures.Pool(t);
        int[] lo = [0, 1, 3, 5], hi = [2, 4, 6, 7]; // floor(i·7/4) .. ceil((i+1)·7/4)
        for (int c = 0; c < 2; c++)
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++)
                    Assert.Equal(Mean(t, 0, c, lo[i], hi[i], lo[j], hi[j]), f[0, c * 16 + i * 4 + j], 5);
    }

    [Fact]
    public void ASideSmallerThanTheTargetIsNotUpsampled()
    {
        Tensor t = Ramp(3, 4, 2, 2);
        FeatureMatrix f = StageFeatures.Pool(t);
        Assert.Equal(4 * 4, f.Columns);
        Assert.Equal(t.Span.ToArray(), f.Values.ToArray());
        Assert.Equal((3, 4 * 2 * 2), StageFeatures.PooledShape(t, 8));
    }

    [Fact]
    public void TheTargetIsAParameter()
    {
        Tensor t = Ramp(1, 1, 8, 8);
        FeatureMatrix f = StageFeatures.Pool(t, target: 2);
        Assert.Equal(4, f.Columns);
        Assert.Equal(Mean(t, 0, 0, 4, 8, 0, 4), f[0, 2], 5);
        Assert.Equal(Mean(t, 0, 0, 0, 8, 0, 8), StageFeatures.Pool(t, target: 1)[0, 0], 5);
    }

    [Fact]
    public void TheBuilderAppendsBatchesLikeOnePool()
    {
        Tensor all = Ramp(5, 2, 8, 8);
        var builder = new StageFeatureBuilder();
        builder.Append(all.Slice0(0, 2));
        builder.Append(all.Slice0(2, 3));
        FeatureMatrix built = builder.Build();
        Assert.Equal(StageFeatures.Pool(all).Values.ToArray(), built.Values.ToArray());
        Assert.Equal(5, builder.Rows);
        Assert.Equal(32, builder.Columns);
    }

    [Fact]
    public void BadShapesAreRejected()
    {
        Assert.Contains("[N, C, H, W]", Assert.Throws<ArgumentException>(() => StageFeatures.Pool(Tensor.Zeros(2, 3))).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => StageFeatures.Pool(Ramp(1, 1, 4, 4), target: 0));
        var builder = new StageFeatureBuilder();
        Assert.Throws<InvalidOperationException>(() => builder.Build());
        builder.Append(Ramp(2, 2, 8, 8));
        Assert.Contains("earlier batches had", Assert.Throws<ArgumentException>(() => builder.Append(Ramp(2, 3, 8, 8))).Message);
    }
}
