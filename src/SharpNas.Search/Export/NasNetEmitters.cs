using System.Globalization;
using SharpNas.Engine.Functional;
using SharpNas.Engine.Modules;
using SharpNas.Search.Spaces.NasNet;
using SharpNas.Search.Spaces.StageWise;

namespace SharpNas.Search.Export;

/// <summary>How a NASNet <see cref="PoolOp"/> pools (the op keeps it private; the cell's emitter knows it from the
/// genotype): kind, square kernel, stride.</summary>
public sealed record PoolOpConfig(PoolKind Kind, int Kernel, int Stride);

/// <summary>Whether a <see cref="FactorizedReduction"/> starts with a ReLU (true when it adjusts a cell's h1 input,
/// false when it brings an output state to the cell's resolution).</summary>
public sealed record FactorizedReductionConfig(bool Relu);

/// <summary>
/// Emitters of NASNet networks (<see cref="NasNetNetwork"/>): stem, cells, ReLU, global pooling, classifier. Inside a
/// cell: h0/h1 adjustments, each block's two ops added or concatenated, output states projected where needed and
/// concatenated. Drop-path is the identity at inference, dense dropout likewise, and the auxiliary head is dropped
/// (it only adds a training loss). Ops: ReLU-conv-BN (1×1, 3×3, dilated 3×3), ReLU-1×k-k×1-BN, separable convs
/// (depthwise Conv with group = channels, twice), pooling (average pooling ignores padding, count_include_pad = 0),
/// factorized reduction (two stride-2 1×1 convs, the second on the input shifted by one pixel: Pad bottom/right + Slice).
/// </summary>
public static class NasNetEmitters
{
    /// <summary>Every emitter of this family.</summary>
    public static IReadOnlyList<IOnnxEmitter> All { get; } =
    [
        new FuncOnnxEmitter<IdentityOp>((_, _, _, x, _) => x[0]),
        new FuncOnnxEmitter<ReluConvBn>((c, m, path, x, _) =>
            c.EmitChild(m, path, "bn", [c.EmitChild(m, path, "conv", [c.Graph.Relu(x[0], path)])])),
        new FuncOnnxEmitter<ReluConvPairBn>((c, m, path, x, _) =>
            c.EmitChild(m, path, "bn", [c.EmitChild(m, path, "conv_2", [c.EmitChild(m, path, "conv_1", [c.Graph.Relu(x[0], path)])])])),
        new FuncOnnxEmitter<SeparableConvStack>(EmitSeparable),
        new FuncOnnxEmitter<PoolOp>(EmitPoolOp),
        new FuncOnnxEmitter<ConvBn>((c, m, path, x, _) => c.EmitChild(m, path, "bn", [c.EmitChild(m, path, "conv", x)])),
        new FuncOnnxEmitter<FactorizedReduction>(EmitFactorizedReduction),
        new FuncOnnxEmitter<NasNetCellModule>(EmitCell, arity: 2),
        new FuncOnnxEmitter<NasNetNetwork>(EmitNetwork),
        new FuncOnnxEmitter<CellStageNetwork>(EmitCellStages),
    ];

    private static string EmitSeparable(OnnxEmitContext c, SeparableConvStack m, string path, IReadOnlyList<string> x, object? _)
    {
        string y = x[0];
        foreach (string i in new[] { "1", "2" })
            y = c.EmitChild(m, path, "bn_" + i, [c.EmitChild(m, path, "pointwise_" + i, [c.EmitChild(m, path, "depthwise_" + i, [c.Graph.Relu(y, path)])])]);
        return y;
    }

    private static string EmitPoolOp(OnnxEmitContext c, PoolOp m, string path, IReadOnlyList<string> x, object? config)
    {
        PoolOpConfig p = FuncOnnxEmitter<PoolOp>.Config<PoolOpConfig>(config, path);
        string y = EngineEmitters.Pool(c.Graph, x[0], p.Kind == PoolKind.Max, Pool2dOptions.Square(p.Kernel, p.Stride, p.Kernel / 2, countIncludePad: false), path);
        return OnnxEmitContext.FindChild(m, "conv") is null ? y : c.EmitChild(m, path, "bn", [c.EmitChild(m, path, "conv", [y])]);
    }

    private static string EmitFactorizedReduction(OnnxEmitContext c, FactorizedReduction m, string path, IReadOnlyList<string> x, object? config)
    {
        bool relu = FuncOnnxEmitter<FactorizedReduction>.Config<FactorizedReductionConfig>(config, path).Relu;
        string r = relu ? c.Graph.Relu(x[0], path) : x[0];
        string a = c.EmitChild(m, path, "path_1", [r]);
        // Pixels (2i+1, 2j+1), zero past the bottom and right edges: the engine's fixed 2×2 selection conv.
        string shifted = c.Graph.Subsample(c.Graph.PadZeros(r, path, bottom: 1, right: 1), 1, 2, path);
        string b = c.EmitChild(m, path, "path_2", [shifted]);
        return c.EmitChild(m, path, "bn", [c.Graph.ConcatChannels([a, b], path)]);
    }

    /// <summary>inputs[0] = the previous cell's output (current), inputs[1] = the one before (previous).</summary>
    private static string EmitCell(OnnxEmitContext c, NasNetCellModule m, string path, IReadOnlyList<string> x, object? _)
    {
        NasNetCell cell = m.Cell;
        var states = new string[cell.StateCount];
        states[0] = c.EmitChild(m, path, "h0_adjust", [x[0]]);
        states[1] = m.IsFirst ? x[0] : c.EmitChildOrPass(m, path, "h1_adjust", x[1], new FactorizedReductionConfig(Relu: true));
        for (int b = 0; b < cell.Blocks.Count; b++)
        {
            NasNetBlock k = cell.Blocks[b];
            string left = c.EmitChild(m, path, $"comb_iter_{b}_left", [states[k.Input1]], OpConfig(k.Op1, m.IsReduction, k.Input1));
            string right = c.EmitChild(m, path, $"comb_iter_{b}_right", [states[k.Input2]], OpConfig(k.Op2, m.IsReduction, k.Input2));
            states[2 + b] = k.Combine == NasNetCombine.Add ? c.Graph.Add(left, right, path) : c.Graph.ConcatChannels([left, right], path);
        }
        var parts = cell.OutputStates
            .Select(s => c.EmitChildOrPass(m, path, $"output_reduce_{s.ToString(CultureInfo.InvariantCulture)}", states[s], new FactorizedReductionConfig(Relu: false)))
            .ToList();
        return c.Graph.ConcatChannels(parts, path);
    }

    /// <summary>The configuration of a block op's module: pooling ops get their kind, kernel and stride (stride 2 on
    /// h0/h1 in a reduction cell, as <see cref="NasNetCellModule"/> builds them).</summary>
    private static PoolOpConfig? OpConfig(NasNetOp op, bool reduction, int input)
    {
        int stride = reduction && input < 2 ? 2 : 1;
        return op switch
        {
            NasNetOp.AvgPool3x3 => new PoolOpConfig(PoolKind.Average, 3, stride),
            NasNetOp.MaxPool3x3 => new PoolOpConfig(PoolKind.Max, 3, stride),
            NasNetOp.MaxPool5x5 => new PoolOpConfig(PoolKind.Max, 5, stride),
            NasNetOp.MaxPool7x7 => new PoolOpConfig(PoolKind.Max, 7, stride),
            _ => null,
        };
    }

    private static string EmitNetwork(OnnxEmitContext c, NasNetNetwork m, string path, IReadOnlyList<string> x, object? _)
    {
        string stem = c.EmitChild(m, path, "stem_bn", [c.EmitChild(m, path, "stem_conv", x)]);
        string previous = stem, current = stem;
        string cells = OnnxEmitContext.Join(path, "cells");
        c.Handled(cells);
        for (int i = 0; i < m.Cells.Count; i++)
        {
            string output = c.Emit(m.Cells[i], OnnxEmitContext.Join(cells, i.ToString(CultureInfo.InvariantCulture)), [current, previous]);
            (previous, current) = (current, output);
        }
        if (OnnxEmitContext.FindChild(m, "aux_head") is not null) c.Drop(OnnxEmitContext.Join(path, "aux_head"));   // a training-only loss
        string features = c.Graph.GlobalAveragePool(c.Graph.Relu(current, path), path);   // dense dropout: identity at inference
        return c.EmitChild(m, path, "classifier", [features]);
    }

    /// <summary>The stage-wise cell network (<see cref="CellStageNetwork"/>): stem, then per stage its reduction cell
    /// (from the second stage on) and normal cells <c>layer{s}.{j}</c>, each reading the two previous outputs; ReLU,
    /// global pooling, classifier.</summary>
    private static string EmitCellStages(OnnxEmitContext c, CellStageNetwork m, string path, IReadOnlyList<string> x, object? _)
    {
        string stem = c.EmitChild(m, path, "stem_bn", [c.EmitChild(m, path, "stem_conv", x)]);
        string previous = stem, current = stem;
        for (int s = 1; s <= m.Depths.Count; s++)
        {
            if (s > 1)
                (previous, current) = (current, c.EmitChild(m, path, $"reduction{s}", [current, previous]));
            string stage = OnnxEmitContext.Join(path, $"layer{s}");
            Module cells = OnnxEmitContext.Child<Module>(m, path, $"layer{s}");
            c.Handled(stage);
            for (int j = 0; j < m.Depths[s - 1]; j++)
                (previous, current) = (current, c.EmitChild(cells, stage, j.ToString(CultureInfo.InvariantCulture), [current, previous]));
        }
        string features = c.Graph.GlobalAveragePool(c.Graph.Relu(current, path), path);
        return c.EmitChild(m, path, "classifier", [features]);
    }
}
