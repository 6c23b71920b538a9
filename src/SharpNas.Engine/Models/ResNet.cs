using SharpNas.Engine.Functional;
using SharpNas.Engine.Modules;

namespace SharpNas.Engine.Models;

/// <summary>How a residual block matches shapes when it changes resolution or width.</summary>
public enum ShortcutKind
{
    /// <summary>Option A: stride-2 subsampling plus zero channel padding (no parameters), as He et al. for CIFAR.</summary>
    ZeroPad,
    /// <summary>Option B: 1×1 convolution with stride plus batch norm.</summary>
    Projection,
}

/// <summary>The CIFAR basic residual block: conv3×3-BN-ReLU-conv3×3-BN, plus shortcut, then ReLU.</summary>
public sealed class BasicBlock : Module<Tensor, Tensor>, IResidualBlock
{
    private readonly Conv2d _conv1, _conv2;
    private readonly BatchNorm2d _bn1, _bn2;
    private readonly Sequential? _projection;
    private readonly int _stride, _outChannels;
    private readonly bool _reshapes;

    /// <summary>The output of the residual addition (before the final ReLU) from the last forward pass.</summary>
    public Tensor? LastAddition { get; private set; }

    /// <summary>Creates a block from <paramref name="inChannels"/> to <paramref name="outChannels"/>.</summary>
    public BasicBlock(int inChannels, int outChannels, int stride, ShortcutKind shortcut)
    {
        _stride = stride;
        _outChannels = outChannels;
        _conv1 = RegisterModule("conv1", new Conv2d(inChannels, outChannels, 3, stride, 1));
        _bn1 = RegisterModule("bn1", new BatchNorm2d(outChannels));
        _conv2 = RegisterModule("conv2", new Conv2d(outChannels, outChannels, 3, 1, 1));
        _bn2 = RegisterModule("bn2", new BatchNorm2d(outChannels));
        _reshapes = stride != 1 || inChannels != outChannels;
        if (_reshapes && shortcut == ShortcutKind.Projection)
            _projection = RegisterModule("shortcut", new Sequential(new Conv2d(inChannels, outChannels, 1, stride), new BatchNorm2d(outChannels)) { ReleasesIntermediates = true });
    }

    /// <inheritdoc/>
    /// <remarks>Without autograd every intermediate but <see cref="LastAddition"/> is released once read
    /// (<see cref="Tensor.Release"/>); <paramref name="x"/> and the output belong to the caller.</remarks>
    public override Tensor Forward(Tensor x)
    {
        Tensor b = _bn1.ForwardAfter(_conv1, x, relu: true);
        Tensor shortcut = !_reshapes ? x : _projection is not null ? _projection.Forward(x) : F.ShortcutA(x, _outChannels, _stride);
        Tensor output = _bn2.ForwardAfterAddRelu(_conv2, b, shortcut, out Tensor sum);
        b.Release(output);
        if (!ReferenceEquals(shortcut, x)) shortcut.Release(output);
        LastAddition = sum;
        return output;
    }
}

/// <summary>
/// A CIFAR ResNet (He et al. 2016, §4.2) with any number of basic blocks per stage: a 3×3 stem conv, S stages
/// whose widths double and resolution halves from the second on, global average pooling and a dense layer.
/// <c>new ResNet([3, 3, 3])</c> is ResNet-20; [18, 18, 18] is ResNet-110; with <see cref="ResidualBlockKind.Bottleneck"/>
/// blocks [18, 18, 18] is ResNet-164 (stage outputs 4 × the widths). State-dict names follow the common
/// PyTorch CIFAR definition: <c>conv1</c>, <c>bn1</c>, <c>layer{s}.{b}.conv1</c>…, <c>fc</c>.
/// </summary>
public sealed class ResNet : Module<Tensor, Tensor>, IStagedNetwork
{
    private readonly Conv2d _conv1;
    private readonly BatchNorm2d _bn1;
    private readonly Sequential[] _stages;
    private readonly Linear _fc;

    /// <summary>Blocks per stage.</summary>
    public IReadOnlyList<int> Depths { get; }

    /// <summary>Builds the network; call <see cref="Module.Initialize"/> (or load weights) before training.</summary>
    public ResNet(IReadOnlyList<int> depths, int numClasses = 10, int inChannels = 3, IReadOnlyList<int>? widths = null,
        ShortcutKind shortcut = ShortcutKind.ZeroPad, ResidualBlockKind block = ResidualBlockKind.Basic)
    {
        if (depths.Count == 0 || depths.Any(d => d < 1))
            throw new ArgumentException($"ResNet: every stage needs at least one block, got depths [{string.Join(", ", depths)}]");
        widths ??= Enumerable.Range(0, depths.Count).Select(i => 16 << i).ToArray();
        if (widths.Count != depths.Count)
            throw new ArgumentException($"ResNet: {widths.Count} widths for {depths.Count} stages");
        Depths = depths.ToArray();
        _conv1 = RegisterModule("conv1", new Conv2d(inChannels, widths[0], 3, 1, 1));
        _bn1 = RegisterModule("bn1", new BatchNorm2d(widths[0]));
        _stages = new Sequential[depths.Count];
        int channels = widths[0];
        for (int s = 0; s < depths.Count; s++)
        {
            var stage = new Sequential { ReleasesIntermediates = true };   // blocks keep no reference to their outputs
            for (int b = 0; b < depths[s]; b++)
            {
                int stride = s > 0 && b == 0 ? 2 : 1;
                stage.Add(block == ResidualBlockKind.Bottleneck ? new BottleneckBlock(channels, widths[s], stride) : new BasicBlock(channels, widths[s], stride, shortcut));
                channels = block == ResidualBlockKind.Bottleneck ? BottleneckBlock.Expansion * widths[s] : widths[s];
            }
            _stages[s] = RegisterModule($"layer{s + 1}", stage);
        }
        _fc = RegisterModule("fc", new Linear(channels, numClasses));
    }

    /// <summary>ResNet-(6n+2) with n blocks in each of the three stages.</summary>
    public static ResNet Cifar(int depth, int numClasses = 10, int inChannels = 3, ShortcutKind shortcut = ShortcutKind.ZeroPad)
    {
        if (depth < 8 || (depth - 2) % 6 != 0) throw new ArgumentException($"ResNet: CIFAR depth must be 6n+2 (20, 32, 44, 56, 110, …), got {depth}");
        int n = (depth - 2) / 6;
        return new ResNet([n, n, n], numClasses, inChannels, null, shortcut);
    }

    /// <summary>The output of each stage's last residual addition (before its ReLU) from the last forward pass.</summary>
    public Tensor[] StageFeatures() =>
        _stages.Select(s => ((IResidualBlock)s[s.Count - 1]).LastAddition ?? throw new InvalidOperationException("ResNet: no forward pass yet")).ToArray();

    /// <inheritdoc/>
    /// <remarks>Without autograd each activation is released as soon as its last reader has run
    /// (<see cref="Tensor.Release"/>), so inference holds a few activations at a time, plus each block's
    /// <see cref="BasicBlock.LastAddition"/>, which <see cref="StageFeatures"/> reads after the forward.</remarks>
    public override Tensor Forward(Tensor x)
    {
        Tensor y = _bn1.ForwardAfter(_conv1, x, relu: true);
        foreach (Sequential stage in _stages)
        {
            Tensor next = stage.Forward(y);
            y.Release(next);
            y = next;
        }
        Tensor pooled = F.GlobalAvgPool(y);
        y.Release(pooled);
        Tensor logits = _fc.Forward(pooled);
        pooled.Release(logits);
        return logits;
    }
}
