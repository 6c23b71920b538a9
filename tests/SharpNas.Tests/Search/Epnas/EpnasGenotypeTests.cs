using SharpNas.Engine;
using SharpNas.Engine.Functional;
using SharpNas.Engine.Modules;
using SharpNas.Search.Genotypes;
using SharpNas.Search.Spaces.Epnas;
using SharpNas.Training;

namespace SharpNas.Tests.Search.Epnas;

/// <summary>EPNAS genotypes: JSON, validation, building, and the cost model against hand-computed values.</summary>
public sealed class EpnasGenotypeTests
{
    /// <summary>The small input (3×8×8, 2 classes) of the EPNAS tests.</summary>
    internal static readonly InputSpec Small = new(3, 8, 8, 2);

    internal static EpnasLayer Conv(int k, int c, int src1, int src2 = -1, EpnasActivation a = EpnasActivation.Relu, bool sep = false) =>
        new(sep ? EpnasLayerType.SepConv2d : EpnasLayerType.Conv2d, k, 2, c, a, src1, src2);

    internal static EpnasLayer Pool(int p, int src1, bool max = true, int src2 = -1) =>
        new(max ? EpnasLayerType.MaxPool : EpnasLayerType.AvgPool, 3, p, 32, EpnasActivation.Relu, src1, src2);

    /// <summary>stem 16 → conv3 32 → maxpool 2 → conv1 16 + skip from the stem (pooled 8×8 → 4×4, no projection).</summary>
    internal static EpnasLayerGenotype HandLayer() => new([Conv(3, 32, 0), Pool(2, 1), Conv(1, 16, 2, src2: 0)], StemChannels: 16);

    internal static EpnasModuleGenotype HandModule() => new(
    [
        new EpnasBranch(EpnasBranchType.ConvMaxPool, 3, 3, 8, 0, 0, false),
        new EpnasBranch(EpnasBranchType.ConvNone, 1, 2, 8, 1, -1, true),
        new EpnasBranch(EpnasBranchType.NoneNone, 3, 2, 8, 0, -1, true),
    ], CellsPerStage: 1, Stages: 2, Filters: 4);

    [Fact]
    public void LayerCost_MatchesTheHandCount()
    {
        // Params: stem 3·16·9 + 32 = 464; conv 16·32·9 + 64 = 4672; pool 0; conv1 32·16 + 32 = 544; dense 16·2 + 2 = 34.
        // FLOPs: 432·64 + 4608·64 + 512·16 + 32. Elements moved (weights + in + out): stem 464+192+1024, conv 4672+1024+2048,
        // pool 0+2048+512, skip pooling 0+1024+256, conv1 544+(512+256)+256, head 34+256+2 = 15124.
        EpnasResources r = HandLayer().Resources(Small);
        Assert.Equal(5714, r.Parameters);
        Assert.Equal(330_784, r.Flops);
        Assert.Equal(4 * 15_124, r.BytesMoved);
        Assert.Equal(330_784.0 / 60_496, r.Intensity, 12);
    }

    [Fact]
    public void ModuleCost_MatchesTheHandCount()
    {
        // Cells: stage 0 normal (in 4 ch, 8×8), stage 1 reduction (in 12, 8×8 → 4×4), stage 1 normal (in 24, 4×4).
        // Params: stem 116; cell A 24 + 304 + 112; cell B 112 + 1184 + 416; cell C 208 + 1184 + 416; dense 50.
        EpnasResources r = HandModule().Resources(Small);
        Assert.Equal(4126, r.Parameters);
        Assert.Equal(6912 + 25_600 + 26_112 + 27_648 + 48, r.Flops);
        Assert.Equal(4 * 12_000, r.BytesMoved);
        Assert.Equal(86_320.0 / 48_000, r.Intensity, 12);
    }

    public static TheoryData<string> Architectures() =>
    [
        HandLayer().ToJson().ToJsonString(),
        HandModule().ToJson().ToJsonString(),
        new EpnasLayerGenotype([Conv(5, 32, 0, a: EpnasActivation.CRelu, sep: true), Conv(3, 64, 1, 0, EpnasActivation.Swish),
            Pool(3, 2, max: false), new EpnasLayer(EpnasLayerType.Add, 3, 2, 16, EpnasActivation.Relu, 3, 1),
            Conv(7, 16, 1, a: EpnasActivation.Selu), Conv(1, 96, 4, 5, EpnasActivation.Elu)]).ToJson().ToJsonString(),
        new EpnasModuleGenotype([new EpnasBranch(EpnasBranchType.ConvConv, 5, 2, 12, 0, 0, true),
            new EpnasBranch(EpnasBranchType.ConvAvgPool, 1, 2, 24, 1, 0, true), new EpnasBranch(EpnasBranchType.AvgPoolNone, 3, 2, 8, 2, -1, true)],
            2, 2, 8).ToJson().ToJsonString(),
    ];

    [Theory, MemberData(nameof(Architectures))]
    public void CostParameters_EqualTheBuiltNetworks_AndTheForwardPassHasTheRightShape(string json)
    {
        IArchitecture a = ArchitectureJson.Parse(json, "test");
        Module<Tensor, Tensor> net = a.Build(Small);
        Assert.Equal(a.Cost(Small).Parameters, net.ParameterCount());
        net.Initialize(new SeededRandom(1));
        var x = Tensor.Zeros(2, 3, 8, 8);
        x.Span.Fill(0.5f);
        Tensor y = net.Forward(x);
        Assert.Equal([2, 2], y.ShapeArray);
        F.Sum(y).Backward();
    }

    [Theory, MemberData(nameof(Architectures))]
    public void Json_RoundTrips(string json)
    {
        IArchitecture a = ArchitectureJson.Parse(json, "test");
        IArchitecture b = ArchitectureJson.Parse(a.ToJson().ToJsonString(), "again");
        Assert.Equal(a, b);
        Assert.Equal(json, b.ToJson().ToJsonString());
    }

    [Theory]
    [InlineData("""{"kind":"epnas-layer","layers":[{"type":"conv2d","src1":0},{"type":"conv2d","channels":48,"src1":1}]}""", "layer 1: field \"channels\"")]
    [InlineData("""{"kind":"epnas-layer","layers":[{"type":"conv2d","src1":0},{"type":"add","src1":1}]}""", "layer 1: field \"src2\"")]
    [InlineData("""{"kind":"epnas-layer","layers":[{"type":"conv2d","src1":2}]}""", "layer 0: field \"src1\"")]
    [InlineData("""{"kind":"epnas-layer","layers":[{"type":"dense","src1":0}]}""", "layer 0: field \"type\"")]
    [InlineData("""{"kind":"epnas-layer","layers":[{"type":"conv2d","src1":0,"activation":"tanh"}]}""", "layer 0: field \"activation\"")]
    [InlineData("""{"kind":"epnas-module","branches":[{"type":"conv-conv","src1":0,"src2":-1}]}""", "branch 0: field \"src2\"")]
    [InlineData("""{"kind":"epnas-module","branches":[{"type":"conv-none","src1":0},{"type":"conv-none","src1":0,"filterWidth":4}]}""", "branch 1: field \"filterWidth\"")]
    [InlineData("""{"kind":"epnas-module","branches":[{"type":"conv-none","src1":0,"propagate":0}]}""", "propagate")]
    public void BadGenotypes_AreErrorsNamingTheElementAndField(string json, string expected)
    {
        var e = Assert.Throws<GenotypeException>(() => ArchitectureJson.Parse(json, "arch.json"));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith("arch.json", e.Message);
    }

    [Fact]
    public void PoolingThatEmptiesTheMap_OrASkipFromASmallerMap_IsInvalidForTheInput()
    {
        var deep = new EpnasLayerGenotype([Pool(2, 0), Pool(2, 1), Pool(2, 2), Pool(2, 3)]);
        Assert.False(deep.IsValidFor(Small));          // 8 → 4 → 2 → 1 → 0
        Assert.True(deep.IsValidFor(new InputSpec(3, 16, 16, 2)));
        var upward = new EpnasLayerGenotype([Pool(2, 0), Conv(3, 32, 0, src2: 1)]);   // full-size conv reading a pooled skip
        var e = Assert.Throws<GenotypeException>(() => upward.Resources(Small));
        Assert.Contains("layer 1: field \"src2\"", e.Message);
    }

    [Fact]
    public void LooseEnds_AreAllPooledIntoTheClassifier()
    {
        // Layer 0 and layer 1 both read the stem; neither is read: the head sees 32 + 64 features.
        var g = new EpnasLayerGenotype([Conv(3, 32, 0), Conv(3, 64, 0)], 16);
        Assert.Equal((32 + 64) * 2 + 2, g.Cost(Small).Parameters - 464 - (16 * 32 * 9 + 64) - (16 * 64 * 9 + 128));
    }
}
