using SharpNas.Engine;
using SharpNas.Engine.Functional;
using SharpNas.Engine.Modules;
using SharpNas.Training;

namespace SharpNas.Search.Spaces.NasNet;

/// <summary>
/// A NASNet built from a <see cref="NasNetGenotype"/> ("N @ P"): a stem, then three stages of N normal cells with a
/// reduction cell between stages (F, 2F, 4F filters), an optional auxiliary head after the second stage, and ReLU,
/// global average pooling, dropout and a dense classifier.
/// <para>State-dict names: <c>stem_conv</c>, <c>stem_bn</c>, <c>cells.{i}</c> (every cell in order, reduction cells
/// and, for the ImageNet stem, its two stem cells included, so i is also the cell's drop-path index), inside a cell
/// <c>h0_adjust</c>, <c>h1_adjust</c>, <c>comb_iter_{b}_left</c>, <c>comb_iter_{b}_right</c>,
/// <c>output_reduce_{s}</c>, then <c>aux_head</c> and <c>classifier</c>; e.g.
/// <c>cells.3.comb_iter_0_left.depthwise_1.weight</c>.</para>
/// <para>Training with the auxiliary head: a forward pass in training mode leaves the head's logits in
/// <see cref="LastAuxLogits"/>; the loss is CE(logits) + 0.4 · CE(aux logits), which <see cref="TrainingLoss"/> computes.
/// ScheduledDropPath: call <see cref="SetTrainingProgress"/> with the fraction of training done (e.g. once per step or
/// epoch) to raise the drop probabilities linearly.</para>
/// </summary>
public sealed class NasNetNetwork : Module<Tensor, Tensor>, SharpNas.Training.ITrainingHooks
{
    private readonly Conv2d _stemConv;
    private readonly BatchNorm2d _stemBn;
    private readonly CellStack _cells;
    private readonly NasNetAuxHead? _auxHead;
    private readonly int _auxAfterCell;
    private readonly Linear _classifier;
    private SeededRandom _dropoutRng = new(0);

    /// <summary>The genotype this network was built from.</summary>
    public NasNetGenotype Genotype { get; }

    /// <summary>Every cell, in order.</summary>
    public IReadOnlyList<NasNetCellModule> Cells => _cells.Items;

    /// <summary>The auxiliary head's logits from the last forward pass in training mode, or null (evaluation mode,
    /// no aux head).</summary>
    public Tensor? LastAuxLogits { get; private set; }

    /// <summary>The fraction of training last given to <see cref="SetTrainingProgress"/> (0 at construction).</summary>
    public double TrainingProgress { get; private set; }

    /// <summary>Builds the network for <paramref name="input"/>; parameters are zero until <see cref="Module.Initialize"/>
    /// or loaded.</summary>
    public NasNetNetwork(NasNetGenotype genotype, InputSpec input)
    {
        Genotype = genotype.Validated();
        NasNetGenotype.Plan plan = genotype.Layout(input);
        int stemChannels = genotype.StemChannels;
        _stemConv = RegisterModule("stem_conv", genotype.Stem == NasNetStem.Cifar
            ? new Conv2d(input.Channels, stemChannels, 3, 1, 1)
            : new Conv2d(input.Channels, stemChannels, 3, 2, 0));
        _stemBn = RegisterModule("stem_bn", new BatchNorm2d(stemChannels));
        _cells = RegisterModule("cells", new CellStack());
        _auxAfterCell = -1;
        int current = stemChannels;
        int? previous = null;
        foreach (NasNetGenotype.CellSlot slot in plan.Cells)
        {
            var cell = new NasNetCellModule(slot.Reduction ? genotype.Reduction : genotype.Normal, slot.Reduction, slot.Filters,
                current, previous, slot.PreviousIsLarger);
            _cells.Add(cell);
            (previous, current) = (current, cell.OutChannels);
            if (genotype.AuxHead && slot.Index == plan.AuxAfterCell)
            {
                _auxHead = RegisterModule("aux_head", new NasNetAuxHead(current, slot.OutH, slot.OutW, input.NumClasses));
                _auxAfterCell = slot.Index;
            }
        }
        _classifier = RegisterModule("classifier", new Linear(current, input.NumClasses));
        SetTrainingProgress(0);
    }

    /// <summary>
    /// ScheduledDropPath: sets every cell's drop probability for <paramref name="fraction"/> of training done
    /// (clamped to [0, 1]). Cell i of T gets P = fraction · (i + 1) / T · (1 − keep), keep =
    /// <see cref="NasNetGenotype.DropPathKeepProb"/>: deeper cells drop more, and all rise linearly from 0 to their final
    /// value over training. With keep = 1 drop-path stays off.
    /// </summary>
    public void SetTrainingProgress(double fraction)
    {
        if (double.IsNaN(fraction)) throw new ArgumentException("NasNetNetwork: training progress is NaN");
        TrainingProgress = Math.Clamp(fraction, 0, 1);
        int total = _cells.Items.Count;
        for (int i = 0; i < total; i++)
            _cells.Items[i].DropProbability = (float)(TrainingProgress * (i + 1) / total * (1 - Genotype.DropPathKeepProb));
    }

    /// <summary>Cross-entropy of <paramref name="logits"/>, plus <see cref="NasNetAuxHead.LossWeight"/> × the auxiliary
    /// head's cross-entropy when the last forward pass produced aux logits.</summary>
    public Tensor TrainingLoss(Tensor logits, ReadOnlySpan<long> labels, float labelSmoothing = 0f)
        => Loss(logits, labels, labelSmoothing);

    private Tensor Loss(Tensor logits, ReadOnlySpan<long> labels, float labelSmoothing)
    {
        Tensor loss = F.CrossEntropy(logits, labels, labelSmoothing);
        return LastAuxLogits is null ? loss
            : F.Add(loss, F.Scale(F.CrossEntropy(LastAuxLogits, labels, labelSmoothing), NasNetAuxHead.LossWeight));
    }

    /// <inheritdoc/>
    protected override void ResetParameters(SeededRandom rng) => _dropoutRng = rng.Derive("dropout");

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        LastAuxLogits = null;
        // Without autograd each activation is released once its last reader has run (Tensor.Release).
        Tensor stem = _stemBn.ForwardReleasing(_stemConv.Forward(x));
        Tensor previous = stem, current = stem;
        for (int i = 0; i < _cells.Items.Count; i++)
        {
            Tensor output = _cells.Items[i].Forward(current, previous);
            if (!ReferenceEquals(previous, current) && !ReferenceEquals(previous, output)) previous.Release(output);
            (previous, current) = (current, output);
            if (i == _auxAfterCell && Training) LastAuxLogits = _auxHead!.Forward(output);
        }
        if (!ReferenceEquals(previous, current)) previous.Release(current);
        Tensor relu = F.Relu(current);
        current.Release(relu);
        Tensor features = F.GlobalAvgPool(relu);
        relu.Release(features);
        if (Genotype.DenseDropout > 0) features = F.Dropout(features, (float)Genotype.DenseDropout, Training, _dropoutRng);
        Tensor logits = _classifier.Forward(features);
        features.Release(logits);
        return logits;
    }

    /// <summary>The cells, registered as children "0", "1", ….</summary>
    private sealed class CellStack : Module
    {
        public List<NasNetCellModule> Items { get; } = [];

        public void Add(NasNetCellModule cell) =>
            Items.Add(RegisterModule(Items.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), cell));
    }
}
