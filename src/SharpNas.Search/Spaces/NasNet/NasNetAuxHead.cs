using SharpNas.Engine;
using SharpNas.Engine.Functional;
using SharpNas.Engine.Modules;
using SharpNas.Training.Cost;

namespace SharpNas.Search.Spaces.NasNet;

/// <summary>
/// NASNet's auxiliary classifier, placed after the last normal cell of the second stage (the 2/3 point): ReLU, 5×5
/// average pool with stride 3 (no padding), 1×1 conv to 128 channels, BN, ReLU, a conv to 768 channels whose kernel
/// covers the whole remaining map, BN, ReLU, dense. Children: <c>conv_1</c>, <c>bn_1</c>, <c>conv_2</c>, <c>bn_2</c>,
/// <c>classifier</c>. Its loss is weighted by <see cref="LossWeight"/>.
/// </summary>
public sealed class NasNetAuxHead : Module<Tensor, Tensor>
{
    /// <summary>Weight of the auxiliary loss in the training loss (0.4, as Szegedy et al. and Zoph et al.).</summary>
    public const float LossWeight = 0.4f;

    private static readonly Pool2dOptions Pool = Pool2dOptions.Square(5, 3, 0, countIncludePad: false);
    private readonly Conv2d _conv1, _conv2;
    private readonly BatchNorm2d _bn1, _bn2;
    private readonly Linear _classifier;

    /// <summary>Builds the head for a <paramref name="channels"/>×<paramref name="h"/>×<paramref name="w"/> feature map.</summary>
    public NasNetAuxHead(int channels, int h, int w, int numClasses)
    {
        (int ph, int pw) = PooledSize(h, w);
        _conv1 = RegisterModule("conv_1", new Conv2d(channels, 128, 1));
        _bn1 = RegisterModule("bn_1", new BatchNorm2d(128));
        _conv2 = RegisterModule("conv_2", new Conv2d(128, 768, ph, pw, Conv2dOptions.Symmetric()));
        _bn2 = RegisterModule("bn_2", new BatchNorm2d(768));
        _classifier = RegisterModule("classifier", new Linear(768, numClasses));
    }

    /// <summary>Size after the 5×5 stride-3 pooling; the map must be at least 5×5.</summary>
    public static (int H, int W) PooledSize(int h, int w)
    {
        if (h < 5 || w < 5)
            throw new ArgumentException($"NASNet aux head: the feature map at the 2/3 point is {h}×{w}, it must be at least 5×5 " +
                "(use a larger input or turn the aux head off)");
        return ((h - 5) / 3 + 1, (w - 5) / 3 + 1);
    }

    /// <summary>Adds the cost of the head built with the same arguments.</summary>
    public static void Count(CostCounter c, int channels, int h, int w, int numClasses)
    {
        (int ph, int pw) = PooledSize(h, w);
        c.Elementwise(channels, h, w);
        c.Elementwise(channels, ph, pw);
        c.Conv(channels, 128, ph, pw, 1, 1);
        c.BatchNorm(128, ph, pw);
        c.Elementwise(128, ph, pw);
        c.Conv(128, 768, ph, pw, ph, pw);
        c.BatchNorm(768, 1, 1);
        c.Elementwise(768, 1, 1);
        c.Linear(768, numClasses);
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        Tensor y = F.AvgPool2d(F.Relu(x), Pool);
        y = _bn1.ForwardRelu(_conv1.Forward(y));
        y = _bn2.ForwardRelu(_conv2.Forward(y));
        return _classifier.Forward(F.Flatten(y));
    }
}
