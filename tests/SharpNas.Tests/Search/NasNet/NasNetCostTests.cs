using SharpNas.Engine;
using SharpNas.Search.Spaces.NasNet;
using SharpNas.Training;
using SharpNas.Training.Cost;

namespace SharpNas.Tests.Search.NasNet;

/// <summary>The cost model of NASNet genotypes, computed without building the network.</summary>
public sealed class NasNetCostTests
{
    private static readonly InputSpec Cifar = new(3, 32, 32, 10);

    [Fact]
    public void NasNetA_6At768_OnCifar_HasThePapers3Point3MillionParameters()
    {
        ArchitectureCost cost = NasNetGenotype.NasNetA(6, 768, auxHead: false).Cost(Cifar);
        Assert.Equal(3_346_538, cost.Parameters);   // measured; the paper reports 3.3M
        Assert.Equal(3.3, Math.Round(cost.Parameters / 1e6, 1));
    }

    [Fact]
    public void NasNetAMobile_4At1056_OnImageNet_MatchesThePublishedCounts()
    {
        // Paper: 5.3M parameters, 564M multiply-adds; Keras's NASNetMobile (BN statistics included): 5,326,716.
        NasNetGenotype mobile = NasNetGenotype.NasNetA(4, 1056, auxHead: false, stem: NasNetStem.ImageNet) with { StemMultiplier = 1 };
        ArchitectureCost cost = mobile.Cost(new InputSpec(3, 224, 224, 1000));
        Assert.Equal(5_326_716, cost.ParametersWithStatistics);
        Assert.Equal(564, Math.Round(cost.Macs / 1e6));
    }

    [Fact]
    public void NasNetALarge_6At4032_OnImageNet_MatchesThePublishedCounts()
    {
        // Paper: 88.9M parameters, 23.8B multiply-adds at 331×331; Keras's NASNetLarge: 88,949,818.
        ArchitectureCost cost = NasNetGenotype.NasNetA(6, 4032, auxHead: false, stem: NasNetStem.ImageNet).Cost(new InputSpec(3, 331, 331, 1000));
        Assert.Equal(88_949_818, cost.ParametersWithStatistics);
        Assert.Equal(23.8, Math.Round(cost.Macs / 1e9, 1));
    }

    public static TheoryData<string> Genotypes() =>
    [
        "nasnet-a 6@768",
        "nasnet-a 2@384 aux",
        "all-ops 2 F6 aux",
        "all-ops imagenet F8",
        "random 1",
        "random 2",
        "random 3",
    ];

    private static (NasNetGenotype Genotype, InputSpec Input) Case(string name)
    {
        if (name.StartsWith("random", StringComparison.Ordinal))
        {
            var rng = new SeededRandom(ulong.Parse(name[7..], System.Globalization.CultureInfo.InvariantCulture));
            int blocks = 1 + rng.NextInt(NasNetCell.MaxBlocks);
            int[] d = NasNetGenotype.DecisionChoices(blocks).Select(c => rng.NextInt(c)).ToArray();
            return (NasNetGenotype.FromDecisions(d, cellsPerStage: 2, filters: 6) with { AuxHead = true }, Cifar);
        }
        return name switch
        {
            "nasnet-a 6@768" => (NasNetGenotype.NasNetA(6, 768, auxHead: false), Cifar),
            "nasnet-a 2@384 aux" => (NasNetGenotype.NasNetA(2, 384, auxHead: true), Cifar),
            "all-ops 2 F6 aux" => (new NasNetGenotype(NasNetNetworkTests.AllOpsNormal, NasNetNetworkTests.AllOpsReduction, 2, 6, AuxHead: true), Cifar),
            "all-ops imagenet F8" => (new NasNetGenotype(NasNetNetworkTests.AllOpsNormal, NasNetNetworkTests.AllOpsReduction, 1, 8, NasNetStem.ImageNet,
                StemMultiplier: 0.5, DenseDropout: 0.5), new InputSpec(3, 64, 48, 7)),
            _ => throw new ArgumentException(name),
        };
    }

    [Theory]
    [MemberData(nameof(Genotypes))]
    public void CostFromTheGenotype_EqualsTheBuiltNetworksParameterCount(string name)
    {
        (NasNetGenotype g, InputSpec input) = Case(name);
        Assert.Equal(g.Build(input).ParameterCount(), g.Cost(input).Parameters);
    }

    [Fact]
    public void AuxHeadParameters_AreCountedOnlyWhenTheHeadIsBuilt()
    {
        NasNetGenotype with = NasNetGenotype.NasNetA(6, 768, auxHead: true);
        NasNetGenotype without = with with { AuxHead = false };
        Assert.Equal(without.Cost(Cifar), with.Cost(Cifar, includeAuxHead: false));
        // Stage-2 map 16×16×384 → pool to 4×4 → 1×1 conv 128 + BN → 4×4 conv 768 + BN → dense 768 → 10.
        long aux = 384 * 128 + 2 * 128 + 128 * 768 * 16 + 2 * 768 + 768 * 10 + 10;
        Assert.Equal(without.Cost(Cifar).Parameters + aux, with.Cost(Cifar).Parameters);
    }

    [Fact]
    public void SeparableConv_IsCountedAsDepthwisePlusPointwiseTwice()
    {
        var c = new CostCounter();
        (int h, int w) = SeparableConvStack.Count(c, 4, 8, 8, 8, 3, 1);
        Assert.Equal((8, 8), (h, w));
        long weights = 4 * 9 + 4 * 8 + 8 * 9 + 8 * 8;   // depthwise 3×3 on 4, pointwise 4→8, depthwise on 8, pointwise 8→8
        Assert.Equal(weights + 2 * 2 * 8, c.Result.Parameters);
        Assert.Equal(weights * 64, c.Result.Macs);
        Assert.Equal(4, c.Result.Depth);
        Assert.Equal(c.Result.Parameters, new SeparableConvStack(4, 8, 3, 1).ParameterCount());
    }

    [Fact]
    public void StridedOps_AllGiveHalfTheResolutionRoundedUp()
    {
        foreach (NasNetOp op in Enum.GetValues<NasNetOp>())
            foreach (int size in new[] { 7, 8 })
            {
                int half = (size + 1) / 2;
                Assert.Equal((half, half), NasNetOps.Count(new CostCounter(), op, 4, 6, size, size, 2));
                Tensor y = NasNetOps.Create(op, 4, 6, 2).Forward(Tensor.Zeros(1, 4, size, size));
                Assert.Equal([1, 6, half, half], y.ShapeArray);
            }
    }
}
