using System.Globalization;
using SharpNas.Engine.Functional;
using SharpNas.Engine.Models;
using SharpNas.Engine.Modules;

namespace SharpNas.Search.Export;

/// <summary>
/// Emitters of the engine's layers and of the CIFAR ResNet: Conv (any kernel, stride, dilation, groups, asymmetric
/// pads), BatchNormalization with the running statistics, Gemm, Relu, pooling, flatten; dropout and drop-path are the
/// identity at inference. A residual basic block's option-A shortcut is Slice (every second row and column) + Pad (zero
/// channels on both sides); option B (and a bottleneck block's projection) is its 1×1 conv and BN.
/// </summary>
public static class EngineEmitters
{
    /// <summary>Every emitter of this family.</summary>
    public static IReadOnlyList<IOnnxEmitter> All { get; } =
    [
        new FuncOnnxEmitter<Conv2d>((c, m, path, x, _) => c.Graph.Conv(x[0], m, path)),
        new FuncOnnxEmitter<BatchNorm2d>((c, m, path, x, _) => c.Graph.BatchNorm(x[0], m, path)),
        new FuncOnnxEmitter<Linear>((c, m, path, x, _) => c.Graph.Dense(x[0], m, path)),
        new FuncOnnxEmitter<ReLU>((c, _, path, x, _) => c.Graph.Relu(x[0], path)),
        new FuncOnnxEmitter<GlobalAvgPool2d>((c, _, path, x, _) => c.Graph.GlobalAveragePool(x[0], path)),
        new FuncOnnxEmitter<Flatten>((c, _, path, x, _) => c.Graph.Node("Flatten", x, path, [OnnxAttribute.Int("axis", 1)])),
        new FuncOnnxEmitter<Dropout>((_, _, _, x, _) => x[0]),    // inverted dropout: the identity at inference
        new FuncOnnxEmitter<DropPath>((_, _, _, x, _) => x[0]),   // likewise
        // The engine's pooling modules keep their options private: the parent passes them.
        new FuncOnnxEmitter<MaxPool2d>((c, _, path, x, config) => Pool(c.Graph, x[0], true, FuncOnnxEmitter<MaxPool2d>.Config<Pool2dOptions>(config, path), path)),
        new FuncOnnxEmitter<AvgPool2d>((c, _, path, x, config) => Pool(c.Graph, x[0], false, FuncOnnxEmitter<AvgPool2d>.Config<Pool2dOptions>(config, path), path)),
        new FuncOnnxEmitter<Sequential>(EmitSequential),
        new FuncOnnxEmitter<BasicBlock>(EmitBasicBlock),
        new FuncOnnxEmitter<BottleneckBlock>(EmitBottleneckBlock),
        new FuncOnnxEmitter<ResNet>(EmitResNet),
    ];

    /// <summary>Pooling with the engine's options (symmetric padding).</summary>
    public static string Pool(OnnxGraph g, string x, bool max, Pool2dOptions o, string scope) =>
        g.Pool(x, max, o.KernelH, o.KernelW, o.StrideH, o.StrideW, (o.PadH, o.PadW, o.PadH, o.PadW), o.CountIncludePad, scope);

    private static string EmitSequential(OnnxEmitContext c, Sequential m, string path, IReadOnlyList<string> x, object? _)
    {
        string y = x[0];
        for (int i = 0; i < m.Count; i++) y = c.Emit(m[i], OnnxEmitContext.Join(path, i.ToString(CultureInfo.InvariantCulture)), [y]);
        return y;
    }

    /// <summary>conv1-bn1-relu-conv2-bn2, plus the shortcut, then ReLU (see <see cref="BasicBlock"/>).</summary>
    private static string EmitBasicBlock(OnnxEmitContext c, BasicBlock m, string path, IReadOnlyList<string> x, object? _)
    {
        var conv1 = OnnxEmitContext.Child<Conv2d>(m, path, "conv1");
        int stride = conv1.Options.StrideH, cin = conv1.Weight.Dim(1), cout = conv1.Weight.Dim(0);
        string y = c.Graph.Relu(c.EmitChild(m, path, "bn1", [c.EmitChild(m, path, "conv1", x)]), path);
        y = c.EmitChild(m, path, "bn2", [c.EmitChild(m, path, "conv2", [y])]);
        string shortcut = x[0];
        if (OnnxEmitContext.FindChild(m, "shortcut") is not null) shortcut = c.EmitChild(m, path, "shortcut", x);
        else if (stride != 1 || cin != cout) shortcut = ShortcutA(c.Graph, x[0], cin, cout, stride, path);
        return c.Graph.Relu(c.Graph.Add(y, shortcut, path), path);
    }

    /// <summary>conv1-bn1-relu-conv2-bn2-relu-conv3-bn3, plus the identity or the projection shortcut, then ReLU (see <see cref="BottleneckBlock"/>).</summary>
    private static string EmitBottleneckBlock(OnnxEmitContext c, BottleneckBlock m, string path, IReadOnlyList<string> x, object? _)
    {
        string y = c.Graph.Relu(c.EmitChild(m, path, "bn1", [c.EmitChild(m, path, "conv1", x)]), path);
        y = c.Graph.Relu(c.EmitChild(m, path, "bn2", [c.EmitChild(m, path, "conv2", [y])]), path);
        y = c.EmitChild(m, path, "bn3", [c.EmitChild(m, path, "conv3", [y])]);
        return c.Graph.Relu(c.Graph.Add(y, c.EmitChildOrPass(m, path, "shortcut", x[0]), path), path);
    }

    /// <summary>Option A: keep every <paramref name="stride"/>-th row and column, then (cout − cin)/2 zero channels on each side.</summary>
    public static string ShortcutA(OnnxGraph g, string x, int cin, int cout, int stride, string scope)
    {
        if (cout < cin || (cout - cin) % 2 != 0)
            throw new InvalidDataException($"export --onnx: option-A shortcut at \"{scope}\" from {cin} to {cout} channels: the difference must be even and not negative");
        if (stride != 1) x = g.Subsample(x, 0, stride, scope);
        long pad = (cout - cin) / 2;
        return pad == 0 ? x : g.PadZeros(x, scope, channelsBefore: pad, channelsAfter: pad);
    }

    /// <summary>conv1-bn1-relu, the stages (layer1, layer2, …), global average pooling, fc.</summary>
    private static string EmitResNet(OnnxEmitContext c, ResNet m, string path, IReadOnlyList<string> x, object? _)
    {
        string y = c.Graph.Relu(c.EmitChild(m, path, "bn1", [c.EmitChild(m, path, "conv1", x)]), path);
        for (int s = 1; OnnxEmitContext.FindChild(m, $"layer{s}") is not null; s++) y = c.EmitChild(m, path, $"layer{s}", [y]);
        return c.EmitChild(m, path, "fc", [c.Graph.GlobalAveragePool(y, path)]);
    }
}
