using SharpNas.Search.Spaces.StageWise;
using SharpNas.Training;
using SharpNas.Training.Cost;

namespace SharpNas.Tests.Training;

public sealed class CostTests
{
    private static readonly InputSpec Cifar = new(3, 32, 32, 10);

    [Theory]
    [InlineData(20, 269_722, 40.6)]
    [InlineData(56, 853_018, 125.5)]
    public void ResNetCostMatchesTheHandCountedValues(int depth, long parameters, double megaMacs)
    {
        ArchitectureCost cost = StageGenotype.ResNet(depth).Cost(Cifar);
        Assert.Equal(parameters, cost.Parameters);
        Assert.Equal(megaMacs, Math.Round(cost.Macs / 1e6, 1));
        Assert.Equal(depth, cost.Depth);
    }

    [Fact]
    public void CostFromTheGenotypeEqualsTheBuiltNetworksParameterCount()
    {
        var g = new StageGenotype(StageModule.Basic, [2, 1, 3], Width: 8, Shortcut: SharpNas.Engine.Models.ShortcutKind.Projection);
        Assert.Equal(g.Build(Cifar).ParameterCount(), g.Cost(Cifar).Parameters);
    }

    [Fact]
    public void BnStatisticsAndMemoryAreCountedAsDocumented()
    {
        var c = new CostCounter();
        c.Conv(3, 8, 4, 4, 3, 3, 1, 1, 1);   // 216 weights, 8×16 outputs, 216×16 MACs
        c.BatchNorm(8, 4, 4);
        c.Linear(8, 2);
        ArchitectureCost r = c.Result;
        Assert.Equal(216 + 16 + 18, r.Parameters);
        Assert.Equal(16, r.BatchNormStatistics);
        Assert.Equal(216 * 16 + 16, r.Macs);
        Assert.Equal(2, r.Depth);
        Assert.Equal(128 + 128 + 2, r.ActivationsPerSample);
        Assert.Equal(4L * (10 * 258 + 250), r.MemoryBytes(10));
    }

    [Fact]
    public void CarbonEstimateFollowsPowerTimesTimeTimesIntensity()
    {
        var e = new CarbonEstimate(100, 0.5);
        Assert.Equal(0.1, e.EnergyKwh(TimeSpan.FromHours(1)), 12);
        Assert.Equal(0.05, e.Co2Kg(TimeSpan.FromHours(1)), 12);
    }
}
