using SharpNas.Engine;
using SharpNas.Engine.Functional;
using SharpNas.Engine.Models;
using SharpNas.Engine.Modules;
using SharpNas.Search.Spaces.StageWise;
using SharpNas.Training;
using SharpNas.Training.Cost;

namespace SharpNas.Tests.Search.StageWise;

/// <summary>The bottleneck and cell stage networks: build, forward, backward, stage features, cost.</summary>
public sealed class StageModuleNetworkTests
{
    private static readonly InputSpec Tiny = new(1, 8, 8, 3);
    private static readonly long[] Labels = [0, 2];

    private static Tensor RandomImages(int n, InputSpec input, ulong seed)
    {
        var rng = new SeededRandom(seed);
        var data = new float[n * input.Channels * input.Height * input.Width];
        for (int i = 0; i < data.Length; i++) data[i] = (float)rng.NextNormal();
        return Tensor.FromArray(data, n, input.Channels, input.Height, input.Width);
    }

    private static Module<Tensor, Tensor> Initialized(StageGenotype g, InputSpec input)
    {
        Module<Tensor, Tensor> net = g.Build(input);
        net.Initialize(new SeededRandom(3));
        return net;
    }

    private static void AssertForwardBackward(StageGenotype g)
    {
        Module<Tensor, Tensor> net = Initialized(g, Tiny);
        Tensor logits = net.Forward(RandomImages(2, Tiny, 4));
        Assert.Equal([2, 3], logits.ShapeArray);
        Tensor loss = F.CrossEntropy(logits, Labels);
        Assert.True(float.IsFinite(loss.Item()));
        loss.Backward();
        foreach ((string name, Tensor p) in net.NamedParameters())
        {
            Assert.True(p.Grad is not null, $"{name} has no gradient");
            float[] grad = p.Grad!.ToArray();
            Assert.True(grad.All(float.IsFinite), $"{name} has a non-finite gradient");
            Assert.True(grad.Any(v => v != 0f), $"{name} has an all-zero gradient");
        }
    }

    [Fact]
    public void BottleneckNetwork_ForwardBackward_GivesLogitsAndAGradientForEveryParameter() =>
        AssertForwardBackward(new StageGenotype(StageModule.Bottleneck, [2, 1, 2], Width: 2));

    [Fact]
    public void CellNetwork_ForwardBackward_GivesLogitsAndAGradientForEveryParameter() =>
        AssertForwardBackward(new StageGenotype(StageModule.Cell, [2, 1, 2], Width: 4));

    [Fact]
    public void BottleneckCost_MatchesAHandCount()
    {
        // 1×8×8 input, 3 classes, [1, 1] bottleneck blocks of width 2 (outputs 8 and 16 channels).
        // stem 3×3 1→2: 18 weights + BN 4.
        // stage 1 (8×8, 2 → 2 → 8, projection since 2 ≠ 8): 1×1 2·2 = 4, BN 4, 3×3 2·2·9 = 36, BN 4, 1×1 2·8 = 16, BN 16,
        //   shortcut 1×1 2·8 = 16, BN 16 → 112.
        // stage 2 (8×8 → 4×4, 8 → 4 → 16): 1×1 8·4 = 32, BN 8, 3×3 4·4·9 = 144, BN 8, 1×1 4·16 = 64, BN 32, shortcut 8·16 = 128,
        //   BN 32 → 448.
        // fc 16·3 + 3 = 51. Total 18 + 4 + 112 + 448 + 51 = 633.
        // MACs: stem 18·64 = 1,152; stage 1 (4 + 36 + 16 + 16)·64 = 4,608; stage 2 32·64 (1×1 at full resolution, the stride
        //   sits on the 3×3) + 144·16 + 64·16 + 128·16 = 7,424; fc 48. Total 13,232.
        var g = new StageGenotype(StageModule.Bottleneck, [1, 1], Width: 2);
        ArchitectureCost cost = g.Cost(Tiny);
        Assert.Equal(633, cost.Parameters);
        Assert.Equal(13_232, cost.Macs);
        Assert.Equal(633, g.Build(Tiny).ParameterCount());
    }

    [Theory]
    [InlineData(StageModule.Bottleneck, new[] { 1, 2, 3 }, 4)]
    [InlineData(StageModule.Bottleneck, new[] { 3, 1 }, 2)]
    [InlineData(StageModule.Cell, new[] { 1, 1, 1 }, 4)]
    [InlineData(StageModule.Cell, new[] { 3, 1, 2 }, 2)]
    [InlineData(StageModule.Cell, new[] { 2, 2 }, 6)]
    public void CostModelParameters_EqualTheBuiltNetworks(StageModule module, int[] depths, int width)
    {
        var g = new StageGenotype(module, depths, width);
        Assert.Equal(g.Build(Tiny).ParameterCount(), g.Cost(Tiny).Parameters);
    }

    [Fact]
    public void BottleneckStageFeatures_AreEachStagesLastAdditionBeforeReLU()
    {
        var net = (ResNet)Initialized(new StageGenotype(StageModule.Bottleneck, [2, 1, 1], Width: 2), Tiny);
        net.Forward(RandomImages(3, Tiny, 5));
        Tensor[] features = net.StageFeatures();
        Assert.Equal([3, 8, 8, 8], features[0].ShapeArray);    // 4 × width 2, full resolution
        Assert.Equal([3, 16, 4, 4], features[1].ShapeArray);
        Assert.Equal([3, 32, 2, 2], features[2].ShapeArray);
        Assert.Contains(features[2].ToArray(), v => v < 0);     // read before the final ReLU
    }

    [Fact]
    public void CellStageFeatures_AreEachStagesLastNormalCellOutput()
    {
        var net = (CellStageNetwork)Initialized(new StageGenotype(StageModule.Cell, [2, 1, 3], Width: 2), Tiny);
        net.Forward(RandomImages(3, Tiny, 5));
        Tensor[] features = net.StageFeatures();
        Assert.Equal([3, 12, 8, 8], features[0].ShapeArray);   // NASNet-A normal cell: 6F
        Assert.Equal([3, 24, 4, 4], features[1].ShapeArray);
        Assert.Equal([3, 48, 2, 2], features[2].ShapeArray);
    }

    [Fact]
    public void CellNetwork_StateDictNamesPlaceNormalCellsInStagesAndReductionCellsBetween()
    {
        string[] names = new StageGenotype(StageModule.Cell, [2, 1], Width: 2).Build(Tiny).StateDict().Select(t => t.Name).ToArray();
        Assert.Contains("stem_conv.weight", names);
        Assert.Contains(names, n => n.StartsWith("layer1.1.comb_iter_0_left.", StringComparison.Ordinal));
        Assert.Contains(names, n => n.StartsWith("reduction2.", StringComparison.Ordinal));
        Assert.Contains(names, n => n.StartsWith("layer2.0.", StringComparison.Ordinal));
        Assert.DoesNotContain(names, n => n.StartsWith("layer2.1.", StringComparison.Ordinal));
        Assert.Contains("classifier.weight", names);
    }

    [Fact]
    public void BottleneckNetwork_UsesPyTorchStyleNamesWithProjectionOnlyWhereTheShapeChanges()
    {
        string[] names = new StageGenotype(StageModule.Bottleneck, [2, 2], Width: 2).Build(Tiny).StateDict().Select(t => t.Name).ToArray();
        Assert.Contains("layer1.0.conv3.weight", names);
        Assert.Contains("layer1.0.shortcut.0.weight", names);   // 2 → 8 channels
        Assert.DoesNotContain("layer1.1.shortcut.0.weight", names);
        Assert.Contains("layer2.0.shortcut.1.running_mean", names);
        Assert.Contains("fc.weight", names);
    }
}
