using SharpNas.Data;
using SharpNas.Engine;

namespace SharpNas.Tests.Data;

public sealed class AugmentationTests
{
    // A 2-channel 5×6 image with distinct non-zero values; identity normalisation so outputs read back as bytes/255.
    private const int C = 2, H = 5, W = 6;

    private static byte[] Image() => Enumerable.Range(0, C * H * W).Select(i => (byte)(i + 1)).ToArray();

    private static byte At(byte[] image, int c, int y, int x) => image[(c * H + y) * W + x];

    private static float Out(float[] output, int c, int y, int x) => output[(c * H + y) * W + x] * 255f;

    private static ImageAugmenter Augmenter(AugmentationOptions options) => new(C, H, W, options, ChannelStatistics.Identity(C));

    [Fact]
    public void Crop_ShiftsContent_AndPadsWithZero()
    {
        byte[] image = Image();
        var output = new float[C * H * W];
        Augmenter(new AugmentationOptions { Padding = 2 }).Apply(image, output, dy: 1, dx: -2, flip: false);
        for (int c = 0; c < C; c++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++)
                {
                    int sy = y + 1, sx = x - 2;
                    float expected = sy < H && sx >= 0 ? At(image, c, sy, sx) : 0;
                    Assert.Equal(expected, Out(output, c, y, x), 3);
                }
    }

    [Fact]
    public void Flip_MirrorsEachRow()
    {
        byte[] image = Image();
        var output = new float[C * H * W];
        Augmenter(new AugmentationOptions { HorizontalFlip = true }).Apply(image, output, 0, 0, flip: true);
        for (int c = 0; c < C; c++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++)
                    Assert.Equal(At(image, c, y, W - 1 - x), Out(output, c, y, x), 3);
    }

    [Fact]
    public void FlipAndShift_CropThenMirror()
    {
        byte[] image = Image();
        var output = new float[C * H * W];
        Augmenter(new AugmentationOptions { Padding = 1 }).Apply(image, output, dy: 0, dx: 1, flip: true);
        // Cropped image row: [s1..s5, 0]; mirrored: [0, s5, s4, s3, s2, s1].
        Assert.Equal(0f, Out(output, 0, 0, 0));
        Assert.Equal(At(image, 0, 0, 5), Out(output, 0, 0, 1), 3);
        Assert.Equal(At(image, 0, 0, 1), Out(output, 0, 0, 5), 3);
    }

    [Fact]
    public void Cutout_ZeroesASquareInEveryChannel()
    {
        byte[] image = Image();
        var output = new float[C * H * W];
        ImageAugmenter augmenter = Augmenter(new AugmentationOptions { CutoutSize = 2 });
        augmenter.Apply(image, output, 0, 0, false);
        augmenter.Cutout(output, cy: 2, cx: 3, size: 2);
        for (int c = 0; c < C; c++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++)
                {
                    bool inside = y is 1 or 2 && x is 2 or 3;
                    Assert.Equal(inside ? 0f : At(image, c, y, x), Out(output, c, y, x), 3);
                }
    }

    [Fact]
    public void Augment_DrawsEveryVariant_AndStaysDeterministic()
    {
        byte[] image = Image();
        ImageAugmenter augmenter = Augmenter(new AugmentationOptions { Padding = 1, HorizontalFlip = true, CutoutSize = 2 });
        var outputs = new HashSet<string>();
        var random = new SeededRandom(3);
        var replay = new SeededRandom(3);
        var a = new float[C * H * W];
        var b = new float[C * H * W];
        for (int i = 0; i < 200; i++)
        {
            augmenter.Augment(image, a, random);
            augmenter.Augment(image, b, replay);
            Assert.Equal(a, b);
            outputs.Add(string.Join(",", a));
            Assert.Contains(0f, a); // the cutout square always lands in the image
        }
        Assert.True(outputs.Count > 50, $"only {outputs.Count} distinct augmentations in 200 draws");
    }

    [Fact]
    public void Normalization_FromTrainingSet_GivesZeroMeanUnitStd()
    {
        ImageDataset data = ValidationSplitTests.Traceable(300, 3, channels: 3, side: 8);
        ChannelStatistics stats = ChannelStatistics.Compute(data);
        var augmenter = new ImageAugmenter(3, 8, 8, AugmentationOptions.None, stats);
        var output = new float[data.ImageSize];
        var sum = new double[3];
        var squares = new double[3];
        for (int i = 0; i < data.Count; i++)
        {
            augmenter.Normalize(data.Image(i), output);
            for (int c = 0; c < 3; c++)
                for (int p = 0; p < 64; p++) { double v = output[c * 64 + p]; sum[c] += v; squares[c] += v * v; }
        }
        for (int c = 0; c < 3; c++)
        {
            double n = data.Count * 64.0, mean = sum[c] / n;
            Assert.InRange(mean, -1e-4, 1e-4);
            Assert.InRange(Math.Sqrt(squares[c] / n - mean * mean), 0.999, 1.001);
        }
    }

    [Fact]
    public void Normalization_GivenStatistics_AreApplied()
    {
        var stats = new ChannelStatistics([0.5f], [0.25f]);
        var augmenter = new ImageAugmenter(1, 1, 2, AugmentationOptions.None, stats);
        var output = new float[2];
        augmenter.Normalize([0, 255], output);
        Assert.Equal(-2f, output[0], 5);
        Assert.Equal(2f, output[1], 5);
    }

    [Fact]
    public void Defaults_FlipForColour_NoFlipForGrayscale()
    {
        Assert.True(AugmentationOptions.DefaultFor(DatasetKind.Cifar10).HorizontalFlip);
        Assert.Equal(4, AugmentationOptions.DefaultFor(DatasetKind.Cifar100).Padding);
        Assert.False(AugmentationOptions.DefaultFor(DatasetKind.FashionMnist).HorizontalFlip);
        Assert.False(AugmentationOptions.DefaultFor(ValidationSplitTests.Traceable(4, 2, channels: 1)).HorizontalFlip);
        Assert.True(AugmentationOptions.DefaultFor(ValidationSplitTests.Traceable(4, 2, channels: 3)).HorizontalFlip);
        Assert.Equal(0, AugmentationOptions.Cifar.CutoutSize);
    }
}
