using SharpNas.Engine.Functional;
using SharpNas.Engine.Modules;

namespace SharpNas.Engine.Models;

/// <summary>The kind of residual block a <see cref="ResNet"/> stage is built from.</summary>
public enum ResidualBlockKind
{
    /// <summary><see cref="BasicBlock"/>: two 3×3 convs; the stage's output width equals its width.</summary>
    Basic,
    /// <summary><see cref="BottleneckBlock"/>: 1×1 reduce, 3×3, 1×1 expand; the stage's output width is
    /// <see cref="BottleneckBlock.Expansion"/> × its width.</summary>
    Bottleneck,
}

/// <summary>A residual block whose last addition (before the final ReLU) the stage-wise search reads.</summary>
public interface IResidualBlock
{
    /// <summary>The output of the residual addition (before the final ReLU) from the last forward pass.</summary>
    Tensor? LastAddition { get; }
}

/// <summary>
/// The bottleneck residual block (He et al. 2016; CIFAR ResNet-164): conv1×1 (reduce to <c>width</c>)-BN-ReLU,
/// conv3×3 (stride)-BN-ReLU, conv1×1 (expand to 4 × <c>width</c>)-BN, plus the shortcut, then ReLU. The stride sits
/// on the 3×3 conv (as torchvision). Where the shape changes (stride ≠ 1 or input channels ≠ 4 × width) the shortcut
/// is a 1×1 convolution with stride plus BN (<c>shortcut.0</c>, <c>shortcut.1</c>), otherwise the identity.
/// State-dict names: <c>conv1</c>, <c>bn1</c>, <c>conv2</c>, <c>bn2</c>, <c>conv3</c>, <c>bn3</c>, <c>shortcut</c>.
/// </summary>
public sealed class BottleneckBlock : Module<Tensor, Tensor>, IResidualBlock
{
    /// <summary>Output channels per unit of width.</summary>
    public const int Expansion = 4;

    private readonly Conv2d _conv1, _conv2, _conv3;
    private readonly BatchNorm2d _bn1, _bn2, _bn3;
    private readonly Sequential? _projection;

    /// <inheritdoc/>
    public Tensor? LastAddition { get; private set; }

    /// <summary>Output channels: <see cref="Expansion"/> × width.</summary>
    public int OutChannels { get; }

    /// <summary>Creates a block reading <paramref name="inChannels"/> channels, with <paramref name="width"/> channels
    /// inside and 4 × <paramref name="width"/> out.</summary>
    public BottleneckBlock(int inChannels, int width, int stride)
    {
        if (inChannels < 1 || width < 1 || stride < 1)
            throw new ArgumentException($"BottleneckBlock: channels, width and stride must be positive, got in {inChannels}, width {width}, stride {stride}");
        OutChannels = Expansion * width;
        _conv1 = RegisterModule("conv1", new Conv2d(inChannels, width, 1));
        _bn1 = RegisterModule("bn1", new BatchNorm2d(width));
        _conv2 = RegisterModule("conv2", new Conv2d(width, width, 3, stride, 1));
        _bn2 = RegisterModule("bn2", new BatchNorm2d(width));
        _conv3 = RegisterModule("conv3", new Conv2d(width, OutChannels, 1));
        _bn3 = RegisterModule("bn3", new BatchNorm2d(OutChannels));
        if (stride != 1 || inChannels != OutChannels)
            _projection = RegisterModule("shortcut", new Sequential(new Conv2d(inChannels, OutChannels, 1, stride), new BatchNorm2d(OutChannels)) { ReleasesIntermediates = true });
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        // Without autograd each intermediate but LastAddition is released once read (Tensor.Release).
        Tensor a = _conv1.Forward(x);
        Tensor b = _bn1.ForwardRelu(a);                   // [N, width, H, W]
        a.Release(b);
        a = _conv2.Forward(b);
        b.Release(a);
        b = _bn2.ForwardRelu(a);                          // [N, width, H/stride, W/stride]
        a.Release(b);
        Tensor shortcut = _projection is null ? x : _projection.Forward(x);
        Tensor output = _bn3.ForwardAfterAddRelu(_conv3, b, shortcut, out Tensor sum);   // [N, 4·width, H/stride, W/stride]
        b.Release(output);
        if (!ReferenceEquals(shortcut, x)) shortcut.Release(output);
        LastAddition = sum;
        return output;
    }
}
