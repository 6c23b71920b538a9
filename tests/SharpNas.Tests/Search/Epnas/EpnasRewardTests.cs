using SharpNas.Search.Spaces.Epnas;
using SharpNas.Search.Strategies.Epnas;

namespace SharpNas.Tests.Search.Epnas;

/// <summary>The soft multi-constraint reward against hand computation.</summary>
public sealed class EpnasRewardTests
{
    // 1.5 M params, 40 M FLOPs, 4 M bytes → intensity 10.
    private static readonly EpnasResources Usage = new(1_500_000, 40_000_000, 4_000_000);

    [Fact]
    public void WithoutConstraints_TheRewardIsTheAccuracy() =>
        Assert.Equal(0.8, new EpnasConstraints().Reward(0.8, Usage), 12);

    [Fact]
    public void AnUpperBound_ViolatedByHalf_CostsPToTheOneHalf()
    {
        var c = new EpnasConstraints(MaxParams: 1_000_000);
        Assert.Equal(0.5, c.Evaluate(Usage)[0].Violation, 12);
        Assert.Equal(0.8 * Math.Sqrt(0.9), c.Reward(0.8, Usage), 12);
        Assert.False(c.SatisfiedBy(Usage));
    }

    [Fact]
    public void ALowerBound_UsesCOverU()
    {
        var c = new EpnasConstraints(MinIntensity: 30);   // C/U − 1 = 30/10 − 1 = 2
        Assert.Equal(2, c.Evaluate(Usage)[0].Violation, 12);
        Assert.Equal(0.8 * 0.81, c.Reward(0.8, Usage), 12);
        Assert.Equal(0, EpnasConstraints.Violation(12, 10, isUpperBound: false));
    }

    [Fact]
    public void SeveralConstraints_MultiplyTheirPenalties_AndSatisfiedOnesCostNothing()
    {
        var c = new EpnasConstraints(MaxParams: 1_000_000, MaxFlops: 80_000_000, MinIntensity: 20, BasePenalty: 0.5);
        IReadOnlyList<ConstraintUsage> u = c.Evaluate(Usage);
        Assert.Equal(["max-params", "max-flops", "min-intensity"], u.Select(x => x.Name));
        Assert.Equal([0.5, 0, 1], u.Select(x => x.Violation));
        Assert.True(u[1].Satisfied);
        Assert.Equal(0.8 * Math.Pow(0.5, 0.5) * 0.5, c.Reward(0.8, Usage), 12);
    }

    [Fact]
    public void AllConstraintsMet_GiveTheAccuracy()
    {
        var c = new EpnasConstraints(MaxParams: 2_000_000, MaxFlops: 40_000_000, MinIntensity: 10);
        Assert.True(c.SatisfiedBy(Usage));
        Assert.Equal(0.8, c.Reward(0.8, Usage), 12);
    }

    [Fact]
    public void TheExplorationLimit_BoundsEveryViolation()
    {
        // Usage: params 1.5 M (V = 0.5 against 1 M), intensity 10 (V = 2 against a minimum of 30).
        Assert.True(new EpnasConstraints(MaxParams: 1_000_000, MinIntensity: 30).WithinExplorationLimit(Usage));   // no limit
        Assert.True(new EpnasConstraints(MaxParams: 1_000_000, MaxViolation: 0.5).WithinExplorationLimit(Usage));
        Assert.False(new EpnasConstraints(MaxParams: 1_000_000, MaxViolation: 0.49).WithinExplorationLimit(Usage));
        Assert.False(new EpnasConstraints(MaxParams: 1_000_000, MinIntensity: 30, MaxViolation: 1).WithinExplorationLimit(Usage));
        Assert.True(new EpnasConstraints(MaxParams: 1_000_000, MinIntensity: 30, MaxViolation: 2).WithinExplorationLimit(Usage));
        Assert.Contains("max-violation", Assert.Throws<ArgumentException>(() => new EpnasConstraints(MaxViolation: -1).Validated()).Message);
    }

    [Fact]
    public void ImpossibleBounds_AreErrorsNamingTheConstraint()
    {
        Assert.Contains("max-flops", Assert.Throws<ArgumentException>(() => new EpnasConstraints(MaxFlops: 0).Validated()).Message);
        Assert.Contains("base penalty", Assert.Throws<ArgumentException>(() => new EpnasConstraints(BasePenalty: 1.5).Validated()).Message);
    }
}
