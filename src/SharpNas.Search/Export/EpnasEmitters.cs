using System.Globalization;
using SharpNas.Engine.Functional;
using SharpNas.Engine.Modules;
using SharpNas.Search.Spaces.Epnas;

namespace SharpNas.Search.Export;

/// <summary>An EPNAS layer's genotype and its skip adapter (none when the skip needs none or there is no skip), which
/// <see cref="EpnasLayerModule"/> keeps private.</summary>
public sealed record EpnasLayerConfig(EpnasLayer Layer, SkipAdapter? Adapter);

/// <summary>The genotype and stage of an EPNAS cell, which <see cref="EpnasCellModule"/> keeps private.</summary>
public sealed record EpnasCellConfig(EpnasModuleGenotype Genotype, int Stage);

/// <summary>
/// Emitters of EPNAS networks. Layer pattern (<see cref="EpnasLayerNetwork"/>): stem conv-BN-ReLU, every layer (conv or
/// separable conv → BN → activation; pooling of width p with stride 2; add), skips added after the activation through
/// their adapter (average pooling with kernel = stride, then 1×1 conv + BN), and every loose end globally pooled,
/// concatenated and classified. Module pattern (<see cref="EpnasModuleNetwork"/>): stem conv-BN, cells (ReLU-1×1 conv-BN
/// preprocessing, branches of ReLU-conv-BN or stride-1 pooling, concatenated), ReLU, global pooling, classifier.
/// Activations: Relu; CReLU as Concat(Relu(x), Relu(−x)); Elu (α = 1); Selu (PyTorch's constants); Swish as x·Sigmoid(x).
/// </summary>
public static class EpnasEmitters
{
    /// <summary>Every emitter of this family.</summary>
    public static IReadOnlyList<IOnnxEmitter> All { get; } =
    [
        new FuncOnnxEmitter<EpnasLayerNetwork>(EmitLayerNetwork),
        new FuncOnnxEmitter<EpnasLayerModule>(EmitLayer, arity: 2, minArity: 1),
        new FuncOnnxEmitter<SkipAdapterModule>(EmitSkipAdapter),
        new FuncOnnxEmitter<EpnasModuleNetwork>(EmitModuleNetwork),
        new FuncOnnxEmitter<EpnasCellModule>(EmitCell),
    ];

    /// <summary>Adds <paramref name="activation"/> applied to <paramref name="x"/>.</summary>
    public static string Activation(OnnxGraph g, EpnasActivation activation, string x, string scope) => activation switch
    {
        EpnasActivation.Relu => g.Relu(x, scope),
        EpnasActivation.CRelu => g.ConcatChannels([g.Relu(x, scope), g.Relu(g.Node("Neg", [x], scope), scope)], scope),
        EpnasActivation.Elu => g.Node("Elu", [x], scope, [OnnxAttribute.Float("alpha", 1f)]),
        EpnasActivation.Selu => g.Node("Selu", [x], scope,
            [OnnxAttribute.Float("alpha", (float)F.SeluAlpha), OnnxAttribute.Float("gamma", (float)F.SeluScale)]),
        EpnasActivation.Swish => g.Node("Mul", [x, g.Node("Sigmoid", [x], scope)], scope),
        _ => throw new NotSupportedException($"export --onnx: EPNAS activation {activation} at \"{scope}\" has no ONNX form"),
    };

    private static string EmitLayerNetwork(OnnxEmitContext c, EpnasLayerNetwork m, string path, IReadOnlyList<string> x, object? _)
    {
        EpnasLayerGenotype genotype = m.Genotype;
        (_, EpnasLayerGenotype.Slot[] slots, int[] looseEnds) = genotype.Layout(c.Input);
        var nodes = new string[genotype.Layers.Count + 1];
        nodes[0] = c.Graph.Relu(c.EmitChild(m, path, "stem_bn", [c.EmitChild(m, path, "stem_conv", x)]), path);
        string layers = OnnxEmitContext.Join(path, "layers");
        c.Handled(layers);
        for (int i = 0; i < genotype.Layers.Count; i++)
        {
            EpnasLayer l = genotype.Layers[i];
            string[] inputs = l.Src2 >= 0 ? [nodes[l.Src1], nodes[l.Src2]] : [nodes[l.Src1]];
            nodes[i + 1] = c.EmitChild(OnnxEmitContext.Child<Module>(m, path, "layers"), layers, i.ToString(CultureInfo.InvariantCulture), inputs,
                new EpnasLayerConfig(l, slots[i].Adapter));
        }
        string features = c.Graph.ConcatChannels(looseEnds.Select(n => c.Graph.GlobalAveragePool(nodes[n], path)).ToList(), path);
        return c.EmitChild(m, path, "classifier", [features]);
    }

    /// <summary>inputs[0] = src1, inputs[1] (when the layer has a skip) = src2.</summary>
    private static string EmitLayer(OnnxEmitContext c, EpnasLayerModule m, string path, IReadOnlyList<string> x, object? config)
    {
        (EpnasLayer l, SkipAdapter? adapter) = FuncOnnxEmitter<EpnasLayerModule>.Config<EpnasLayerConfig>(config, path);
        if ((l.Src2 >= 0) != (x.Count == 2))
            throw new InvalidDataException($"export --onnx: EPNAS layer at \"{path}\" has src2 {l.Src2} but was given {x.Count} input(s)");
        var pool = Pool2dOptions.Square(l.PoolWidth, 2, (l.PoolWidth - 1) / 2, countIncludePad: false);
        string y = l.Type switch
        {
            EpnasLayerType.Conv2d => Activation(c.Graph, l.Activation, c.EmitChild(m, path, "bn", [c.EmitChild(m, path, "conv", [x[0]])]), path),
            EpnasLayerType.SepConv2d => Activation(c.Graph, l.Activation,
                c.EmitChild(m, path, "bn", [c.EmitChild(m, path, "pointwise", [c.EmitChild(m, path, "depthwise", [x[0]])])]), path),
            EpnasLayerType.MaxPool => EngineEmitters.Pool(c.Graph, x[0], true, pool, path),
            EpnasLayerType.AvgPool => EngineEmitters.Pool(c.Graph, x[0], false, pool, path),
            EpnasLayerType.Add => x[0],
            _ => throw new NotSupportedException($"export --onnx: EPNAS layer type {l.Type} at \"{path}\" has no ONNX form"),
        };
        if (x.Count == 1) return y;
        string skip = adapter is null ? x[1] : c.EmitChild(m, path, "skip", [x[1]], adapter.Value);
        return c.Graph.Add(y, skip, path);
    }

    private static string EmitSkipAdapter(OnnxEmitContext c, SkipAdapterModule m, string path, IReadOnlyList<string> x, object? config)
    {
        SkipAdapter a = FuncOnnxEmitter<SkipAdapterModule>.Config<SkipAdapter>(config, path);
        string y = a.Pools ? EngineEmitters.Pool(c.Graph, x[0], false, new Pool2dOptions(a.StrideH, a.StrideW, a.StrideH, a.StrideW), path) : x[0];
        return a.Projects ? c.EmitChild(m, path, "bn", [c.EmitChild(m, path, "conv", [y])]) : y;
    }

    private static string EmitModuleNetwork(OnnxEmitContext c, EpnasModuleNetwork m, string path, IReadOnlyList<string> x, object? _)
    {
        // The network keeps its genotype private; the exported architecture is that genotype.
        if (c.Architecture is not EpnasModuleGenotype genotype)
            throw new InvalidDataException($"export --onnx: {nameof(EpnasModuleNetwork)} at \"{path}\" needs an {EpnasModuleGenotype.KindName} architecture, got \"{c.Architecture.Kind}\"");
        string h = c.EmitChild(m, path, "stem_bn", [c.EmitChild(m, path, "stem_conv", x)]);
        string cells = OnnxEmitContext.Join(path, "cells");
        c.Handled(cells);
        Module holder = OnnxEmitContext.Child<Module>(m, path, "cells");
        int i = 0;
        foreach (var cell in genotype.Cells(c.Input))
            h = c.EmitChild(holder, cells, (i++).ToString(CultureInfo.InvariantCulture), [h], new EpnasCellConfig(genotype, cell.Stage));
        return c.EmitChild(m, path, "classifier", [c.Graph.GlobalAveragePool(c.Graph.Relu(h, path), path)]);
    }

    /// <summary>The cell's branch ops are private types of <see cref="EpnasCellModule"/>; the cell writes them here:
    /// a conv branch is ReLU → its <c>conv</c> → its <c>bn</c>; a pool branch pools with width p, stride 1, padding 1
    /// (width 2: padding on the top and left only, which is the engine's crop of the extra row and column).</summary>
    private static string EmitCell(OnnxEmitContext c, EpnasCellModule m, string path, IReadOnlyList<string> x, object? config)
    {
        (EpnasModuleGenotype genotype, _) = FuncOnnxEmitter<EpnasCellModule>.Config<EpnasCellConfig>(config, path);
        var states = new string[genotype.Branches.Count + 1];
        states[0] = c.EmitChild(m, path, "preprocess_bn", [c.EmitChild(m, path, "preprocess", [c.Graph.Relu(x[0], path)])]);
        var outputs = new List<string>();
        for (int b = 0; b < genotype.Branches.Count; b++)
        {
            EpnasBranch br = genotype.Branches[b];
            (EpnasCellOp? first, EpnasCellOp? second) = br.Ops;
            string y = first is null ? states[br.Src1] : BranchOp(c, m, path, $"branch_{b}_first", first.Value, br.PoolWidth, states[br.Src1]);
            if (second is not null)
                y = c.Graph.ConcatChannels([y, BranchOp(c, m, path, $"branch_{b}_second", second.Value, br.PoolWidth, states[br.Src2])], path);
            states[b + 1] = y;
            if (br.Propagate) outputs.Add(y);
        }
        return c.Graph.ConcatChannels(outputs, path);
    }

    private static string BranchOp(OnnxEmitContext c, EpnasCellModule cell, string cellPath, string name, EpnasCellOp op, int poolWidth, string x)
    {
        Module m = OnnxEmitContext.Child<Module>(cell, cellPath, name);
        string path = OnnxEmitContext.Join(cellPath, name);
        c.Handled(path);
        if (op == EpnasCellOp.Conv) return c.EmitChild(m, path, "bn", [c.EmitChild(m, path, "conv", [c.Graph.Relu(x, path)])]);
        (int Top, int Left, int Bottom, int Right) pads = poolWidth == 2 ? (1, 1, 0, 0) : (1, 1, 1, 1);
        if (poolWidth is not (2 or 3)) throw new NotSupportedException($"export --onnx: EPNAS pool width {poolWidth} at \"{path}\" is not 2 or 3");
        return c.Graph.Pool(x, op == EpnasCellOp.MaxPool, poolWidth, poolWidth, 1, 1, pads, countIncludePad: false, path);
    }
}
