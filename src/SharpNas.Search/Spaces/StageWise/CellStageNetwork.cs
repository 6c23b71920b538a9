using System.Globalization;
using SharpNas.Engine;
using SharpNas.Engine.Functional;
using SharpNas.Engine.Models;
using SharpNas.Engine.Modules;
using SharpNas.Search.Spaces.NasNet;
using SharpNas.Training;
using SharpNas.Training.Cost;

namespace SharpNas.Search.Spaces.StageWise;

/// <summary>
/// The stage-wise search's cell network: NASNet-A cells as modules, with its own number of normal cells in every stage.
/// A CIFAR stem (3×3 conv with <see cref="StemMultiplier"/> × F filters, BN), then stage s (F·2^s filters) of N_s normal
/// cells, a NASNet-A reduction cell in front of every stage but the first, and ReLU, global average pooling and a dense
/// classifier. As in the paper's cell experiments the network is trained plainly: no auxiliary head, no
/// ScheduledDropPath (each cell's drop probability stays 0).
/// <para>State-dict names: <c>stem_conv</c>, <c>stem_bn</c>, <c>layer{s}.{j}</c> (normal cell j of stage s, from 1 and 0,
/// as the ResNet blocks, so weight transfer maps them the same way), <c>reduction{s}</c> (the reduction cell in front of
/// stage s ≥ 2), <c>classifier</c>; inside a cell the names of <see cref="NasNetCellModule"/>.</para>
/// <para><see cref="StageFeatures"/>: the output of every stage's last normal cell (the concatenation of its states).</para>
/// </summary>
public sealed class CellStageNetwork : Module<Tensor, Tensor>, IStagedNetwork
{
    /// <summary>CIFAR stem filters per first-stage filter (NASNet's 3).</summary>
    public const int StemMultiplier = 3;

    private readonly Conv2d _stemConv;
    private readonly BatchNorm2d _stemBn;
    private readonly NasNetCellModule[] _cells;   // in forward order, reduction cells included
    private readonly int[] _stageLast;            // index in _cells of each stage's last normal cell
    private readonly Linear _classifier;
    private readonly Tensor?[] _stageOutputs;

    /// <summary>Normal cells per stage.</summary>
    public IReadOnlyList<int> Depths { get; }

    /// <summary>Builds the network for <paramref name="input"/> with <paramref name="depths"/> normal cells per stage and
    /// F = <paramref name="filters"/> in the first stage; parameters are zero until initialised or loaded.</summary>
    public CellStageNetwork(IReadOnlyList<int> depths, int filters, InputSpec input)
    {
        if (depths.Count == 0 || depths.Any(d => d < 1))
            throw new ArgumentException($"CellStageNetwork: every stage needs at least one cell, got depths [{string.Join(", ", depths)}]");
        if (filters < 1) throw new ArgumentException($"CellStageNetwork: filters must be positive, got {filters}");
        Depths = depths.ToArray();
        int stem = StemMultiplier * filters;
        _stemConv = RegisterModule("stem_conv", new Conv2d(input.Channels, stem, 3, 1, 1));
        _stemBn = RegisterModule("stem_bn", new BatchNorm2d(stem));
        var cells = new List<NasNetCellModule>();
        _stageLast = new int[depths.Count];
        int current = stem;
        int? previous = null;
        bool previousWasReduction = false;
        for (int s = 0; s < depths.Count; s++)
        {
            int f = filters << s;
            if (s > 0)
            {
                var reduction = new NasNetCellModule(NasNetCell.NasNetAReduction, true, f, current, previous, previousWasReduction);
                cells.Add(RegisterModule($"reduction{s + 1}", reduction));
                (previous, current, previousWasReduction) = (current, reduction.OutChannels, true);
            }
            var stage = RegisterModule($"layer{s + 1}", new CellList());
            for (int j = 0; j < depths[s]; j++)
            {
                var cell = new NasNetCellModule(NasNetCell.NasNetANormal, false, f, current, previous, previousWasReduction);
                cells.Add(stage.Add(cell));
                (previous, current, previousWasReduction) = (current, cell.OutChannels, false);
            }
            _stageLast[s] = cells.Count - 1;
        }
        _cells = cells.ToArray();
        _classifier = RegisterModule("classifier", new Linear(current, input.NumClasses));
        _stageOutputs = new Tensor?[depths.Count];
    }

    /// <summary>Parameters, multiply-accumulates, depth and activations of the network the constructor builds.</summary>
    public static ArchitectureCost Cost(IReadOnlyList<int> depths, int filters, InputSpec input)
    {
        var c = new CostCounter();
        int stem = StemMultiplier * filters;
        (int h, int w) = c.ConvSame(input.Channels, stem, input.Height, input.Width, 3);
        c.BatchNorm(stem, h, w);
        int current = stem;
        int? previous = null;
        bool previousIsLarger = false;
        (int ph, int pw) = (h, w);
        for (int s = 0; s < depths.Count; s++)
        {
            int f = filters << s;
            for (int j = s > 0 ? -1 : 0; j < depths[s]; j++)
            {
                bool reduction = j < 0;
                (int channels, int oh, int ow) = NasNetCellModule.Count(c, reduction ? NasNetCell.NasNetAReduction : NasNetCell.NasNetANormal,
                    reduction, f, current, previous, previousIsLarger, h, w, ph, pw);
                (previous, current, previousIsLarger) = (current, channels, reduction);
                (ph, pw, h, w) = (h, w, oh, ow);
            }
        }
        c.Elementwise(current, h, w);   // ReLU
        c.Elementwise(current, 1, 1);   // pooled
        c.Linear(current, input.NumClasses);
        return c.Result;
    }

    /// <inheritdoc/>
    public Tensor[] StageFeatures() =>
        _stageOutputs.Select(t => t ?? throw new InvalidOperationException("CellStageNetwork: no forward pass yet")).ToArray();

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        // Without autograd each activation but the stage outputs (StageFeatures) is released once its last reader has
        // run (Tensor.Release).
        Tensor stem = _stemBn.ForwardReleasing(_stemConv.Forward(x));
        Tensor previous = stem, current = stem;
        int stage = 0;
        for (int i = 0; i < _cells.Length; i++)
        {
            Tensor output = _cells[i].Forward(current, previous);
            ReleaseUnlessStageOutput(previous, current, output);
            (previous, current) = (current, output);
            if (stage < _stageLast.Length && i == _stageLast[stage]) _stageOutputs[stage++] = output;
        }
        ReleaseUnlessStageOutput(previous, current, current);
        Tensor relu = F.Relu(current);
        ReleaseUnlessStageOutput(current, relu, relu);
        Tensor pooled = F.GlobalAvgPool(relu);
        relu.Release(pooled);
        Tensor logits = _classifier.Forward(pooled);
        pooled.Release(logits);
        return logits;
    }

    private void ReleaseUnlessStageOutput(Tensor dead, Tensor current, Tensor output)
    {
        if (!ReferenceEquals(dead, current) && !ReferenceEquals(dead, output) && Array.IndexOf(_stageOutputs, dead) < 0) dead.Release(output);
    }

    /// <summary>The normal cells of one stage, registered as children "0", "1", ….</summary>
    private sealed class CellList : Module
    {
        private int _count;

        public NasNetCellModule Add(NasNetCellModule cell) => RegisterModule((_count++).ToString(CultureInfo.InvariantCulture), cell);
    }
}
