using SharpNas.Engine;
using SharpNas.Engine.Modules;
using SharpNas.Search.Spaces.NasNet;
using SharpNas.Training;
using SharpNas.Tests.Engine;

namespace SharpNas.Tests.Search.NasNet;

/// <summary>Networks built from NASNet cells: shapes, gradients, ScheduledDropPath, aux head, names.</summary>
public sealed class NasNetNetworkTests
{
    private static readonly InputSpec Tiny = new(3, 16, 16, 10);
    private static readonly long[] Labels = [3, 7];

    /// <summary>A normal cell using ops 1–9 and both combines; concatenated blocks force identity and pooling projections.</summary>
    internal static NasNetCell AllOpsNormal { get; } = new(
    [
        new(0, 1, NasNetOp.Conv1x3Then3x1, NasNetOp.Conv1x7Then7x1, NasNetCombine.Concat),
        new(2, 0, NasNetOp.Identity, NasNetOp.DilatedConv3x3),
        new(1, 3, NasNetOp.AvgPool3x3, NasNetOp.MaxPool3x3),
        new(2, 4, NasNetOp.MaxPool5x5, NasNetOp.MaxPool7x7),
        new(1, 5, NasNetOp.Conv1x1, NasNetOp.Conv3x3, NasNetCombine.Concat),
    ]);

    /// <summary>A reduction cell using the separable convs and strided identity, that never reads h1 (so h1 is an output
    /// and must be reduced).</summary>
    internal static NasNetCell AllOpsReduction { get; } = new(
    [
        new(0, 0, NasNetOp.SepConv3x3, NasNetOp.SepConv5x5),
        new(0, 2, NasNetOp.SepConv7x7, NasNetOp.Identity),
        new(0, 3, NasNetOp.Identity, NasNetOp.AvgPool3x3, NasNetCombine.Concat),
        new(4, 0, NasNetOp.MaxPool3x3, NasNetOp.Conv1x3Then3x1),
        new(5, 0, NasNetOp.Conv3x3, NasNetOp.DilatedConv3x3),
    ]);

    private static Tensor RandomImages(int n, InputSpec input, ulong seed)
    {
        var rng = new SeededRandom(seed);
        var data = new float[n * input.Channels * input.Height * input.Width];
        for (int i = 0; i < data.Length; i++) data[i] = (float)rng.NextNormal();
        return Tensor.FromArray(data, n, input.Channels, input.Height, input.Width);
    }

    private static NasNetNetwork BuildInitialized(NasNetGenotype g, InputSpec input, ulong seed = 1)
    {
        var net = Assert.IsType<NasNetNetwork>(g.Build(input));
        net.Initialize(new SeededRandom(seed));
        return net;
    }

    private static void AssertEveryParameterHasAFiniteNonZeroGradient(Module net)
    {
        foreach ((string name, Tensor p) in net.NamedParameters())
        {
            Assert.True(p.Grad is not null, $"{name} has no gradient");
            float[] g = p.Grad!.ToArray();
            Assert.True(g.All(float.IsFinite), $"{name} has a non-finite gradient");
            Assert.True(g.Any(v => v != 0f), $"{name} has an all-zero gradient");
        }
    }

    [Fact]
    public void TinyNasNetA_ForwardBackward_GivesLogitsAndAFiniteGradientForEveryParameter()
    {
        NasNetGenotype g = NasNetGenotype.NasNetA(1, 96, auxHead: true);   // N = 1, F = 4
        NasNetNetwork net = BuildInitialized(g, Tiny);
        Assert.Equal([24, 32, 48, 64, 96], net.Cells.Select(c => c.OutChannels));   // 6F, 4·2F, 6·2F, 4·4F, 6·4F
        Tensor logits = net.Forward(RandomImages(2, Tiny, 2));
        Assert.Equal([2, 10], logits.ShapeArray);
        Assert.Equal([2, 10], net.LastAuxLogits!.ShapeArray);
        Tensor loss = net.TrainingLoss(logits, Labels);
        Assert.True(float.IsFinite(loss.Item()));
        loss.Backward();
        AssertEveryParameterHasAFiniteNonZeroGradient(net);   // aux head included: its loss is part of TrainingLoss
    }

    [Fact]
    public void AllOpsNetwork_ForwardBackward_GivesLogitsAndAFiniteGradientForEveryParameter()
    {
        var g = new NasNetGenotype(AllOpsNormal, AllOpsReduction, CellsPerStage: 1, Filters: 4, AuxHead: true);
        NasNetNetwork net = BuildInitialized(g, Tiny);
        Tensor logits = net.Forward(RandomImages(2, Tiny, 3));
        Assert.Equal([2, 10], logits.ShapeArray);
        net.TrainingLoss(logits, Labels).Backward();
        AssertEveryParameterHasAFiniteNonZeroGradient(net);
        Assert.Contains(net.NamedParameters(), p => p.Name.StartsWith("cells.1.output_reduce_1.", StringComparison.Ordinal));
    }

    [Fact]
    public void TrainingWithDropPath_KeepsGradientsFinite()
    {
        NasNetNetwork net = BuildInitialized(NasNetGenotype.NasNetA(1, 96, auxHead: false, dropPathKeepProb: 0.6), Tiny);
        net.SetTrainingProgress(1.0);
        net.TrainingLoss(net.Forward(RandomImages(2, Tiny, 4)), Labels).Backward();
        foreach ((string name, Tensor p) in net.NamedParameters())
            Assert.True(p.Grad!.ToArray().All(float.IsFinite), $"{name} has a non-finite gradient");
    }

    [Fact]
    public void ImageNetStem_AddsTwoReductionStemCells()
    {
        var input = new InputSpec(3, 32, 32, 5);
        NasNetGenotype g = NasNetGenotype.NasNetA(1, 192, auxHead: false, stem: NasNetStem.ImageNet);   // F = 8
        NasNetNetwork net = BuildInitialized(g, input);
        Assert.Equal(7, net.Cells.Count);
        Assert.Equal(g.TotalCells, net.Cells.Count);
        Assert.Equal([true, true, false, true, false, true, false], net.Cells.Select(c => c.IsReduction));
        Assert.Equal([2, 4, 8, 16, 16, 32, 32], net.Cells.Select(c => c.Filters));
        Assert.Equal([2, 5], net.Forward(RandomImages(2, input, 5)).ShapeArray);
    }

    [Fact]
    public void ScheduledDropPath_RaisesEachCellsProbabilityLinearlyWithDepthAndProgress()
    {
        NasNetNetwork net = BuildInitialized(NasNetGenotype.NasNetA(2, 48, auxHead: false, dropPathKeepProb: 0.6), Tiny);   // 8 cells
        Assert.Equal(8, net.Cells.Count);
        Assert.All(net.Cells, c => Assert.Equal(0f, c.DropProbability));
        net.SetTrainingProgress(0.5);
        for (int i = 0; i < 8; i++) Assert.Equal(0.5 * (i + 1) / 8 * 0.4, net.Cells[i].DropProbability, 6);
        net.SetTrainingProgress(1.0);
        Assert.Equal(0.4, net.Cells[^1].DropProbability, 6);
        Assert.Equal(0.05, net.Cells[0].DropProbability, 6);
        net.SetTrainingProgress(3.0);   // past the end: stays at the final value
        Assert.Equal(0.4, net.Cells[^1].DropProbability, 6);
        Assert.Equal(1.0, net.TrainingProgress);

        NasNetNetwork noDrop = BuildInitialized(NasNetGenotype.NasNetA(2, 48, auxHead: false, dropPathKeepProb: 1.0), Tiny);
        noDrop.SetTrainingProgress(1.0);
        Assert.All(noDrop.Cells, c => Assert.Equal(0f, c.DropProbability));
    }

    [Fact]
    public void DropPath_ChangesTrainingOutputsButNotEvaluationOutputs()
    {
        NasNetNetwork net = BuildInitialized(NasNetGenotype.NasNetA(1, 96, auxHead: false, dropPathKeepProb: 0.2), Tiny);
        Tensor x = RandomImages(4, Tiny, 6);
        net.SetTrainingProgress(0);
        float[] trainNoDrop = net.Forward(x).ToArray();
        net.SetTrainingProgress(1);
        float[] trainDrop = net.Forward(x).ToArray();
        Assert.NotEqual(trainNoDrop, trainDrop);

        net.Eval();
        float[] evalLate = net.Forward(x).ToArray();
        net.SetTrainingProgress(0);
        Assert.Equal(evalLate, net.Forward(x).ToArray());
        Assert.Null(net.LastAuxLogits);
    }

    [Fact]
    public void AuxHead_GivesLogitsOnlyInTrainingMode()
    {
        NasNetNetwork net = BuildInitialized(NasNetGenotype.NasNetA(1, 96, auxHead: true), Tiny);
        Tensor x = RandomImages(2, Tiny, 7);
        Tensor logits = net.Forward(x);
        Assert.NotNull(net.LastAuxLogits);
        float plain = SharpNas.Engine.Functional.F.CrossEntropy(logits, Labels).Item();
        float aux = SharpNas.Engine.Functional.F.CrossEntropy(net.LastAuxLogits!, Labels).Item();
        Assert.Equal(plain + 0.4f * aux, net.TrainingLoss(logits, Labels).Item(), 5);
        net.Eval();
        net.Forward(x);
        Assert.Null(net.LastAuxLogits);
    }

    [Fact]
    public void AuxHead_OnTooSmallAMap_ThrowsSayingWhy()
    {
        var e = Assert.Throws<ArgumentException>(() => NasNetGenotype.NasNetA(1, 96, auxHead: true).Build(new InputSpec(3, 8, 8, 10)));
        Assert.Contains("4×4", e.Message);
        Assert.Contains("at least 5×5", e.Message);
    }

    [Fact]
    public void StateDictNames_FollowTheDocumentedScheme()
    {
        var names = NasNetGenotype.NasNetA(1, 96, auxHead: true).Build(Tiny).StateDict().Select(e => e.Name).ToHashSet();
        Assert.Contains("stem_conv.weight", names);
        Assert.Contains("stem_bn.running_var", names);
        Assert.Contains("cells.0.h0_adjust.conv.weight", names);
        Assert.DoesNotContain(names, n => n.StartsWith("cells.0.h1_adjust.", StringComparison.Ordinal));   // first cell: h1 = the stem's output as is
        Assert.Contains("cells.0.output_reduce_1.conv.weight", names);   // … projected to F before the output concat
        Assert.Contains("cells.1.h1_adjust.conv.weight", names);         // stem (12 channels) → F = 8
        Assert.Contains("cells.2.h1_adjust.path_2.weight", names);       // after a reduction cell: factorized reduction
        Assert.Contains("cells.0.comb_iter_0_left.depthwise_1.weight", names);
        Assert.DoesNotContain(names, n => n.StartsWith("cells.1.comb_iter_4_right.", StringComparison.Ordinal));   // max-pool of h0: F in, F out, no conv
        Assert.Contains("cells.4.comb_iter_1_right.bn_2.bias", names);
        Assert.Contains("aux_head.conv_2.weight", names);
        Assert.Contains("classifier.bias", names);
    }

    [Fact]
    public void FactorizedReduction_ConcatenatesEvenPixelsAndShiftedOddPixels()
    {
        var op = new FactorizedReduction(1, 2);
        foreach ((_, Tensor p) in op.NamedParameters()) p.Span.Fill(1f);   // both 1×1 paths copy; BN γ = 1, β = 1
        op.Eval();                                                         // running mean 0, variance 1
        var x = Tensor.FromArray(Enumerable.Range(1, 25).Select(v => (float)v).ToArray(), 1, 1, 5, 5);
        float[] y = op.Forward(x).ToArray();
        float s = 1f / MathF.Sqrt(1f + 1e-5f);
        float[] even = [1, 3, 5, 11, 13, 15, 21, 23, 25];   // x[2i, 2j]
        float[] odd = [7, 9, 0, 17, 19, 0, 0, 0, 0];        // x[2i+1, 2j+1], zero past the edge
        float[] expected = [.. even.Select(v => v * s + 1), .. odd.Select(v => v * s + 1)];
        Assert.Equal(expected.Length, y.Length);
        for (int i = 0; i < y.Length; i++) Assert.Equal(expected[i], y[i], 4);
    }

    [Fact]
    public void FactorizedReduction_InputGradient_MatchesFiniteDifferences()
    {
        var op = new FactorizedReduction(3, 4);
        op.Initialize(new SeededRandom(9));
        // Inputs kept at least 0.1 away from ReLU's kink so that central differences are valid; odd size exercises the edge.
        Tensor x = GradientCheck.Random([2, 3, 5, 5], new SeededRandom(10));
        Span<float> xs = x.Span;
        for (int i = 0; i < xs.Length; i++) xs[i] = MathF.CopySign(0.1f + MathF.Abs(xs[i]), xs[i]);
        Assert.Null(GradientCheck.Compare(t => op.Forward(t[0]), [x]));
    }
}
