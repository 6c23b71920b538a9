using SharpNas.Search.Spaces.Epnas;

namespace SharpNas.Search.Strategies.Epnas;

/// <summary>One resource constraint's usage, bound and violation.</summary>
/// <param name="Name">max-params, max-flops or min-intensity.</param>
/// <param name="Usage">U: the network's value.</param>
/// <param name="Bound">C: the bound.</param>
/// <param name="IsUpperBound">True for a maximum, false for a minimum.</param>
/// <param name="Violation">V = max(0, U/C − 1) for a maximum, max(0, C/U − 1) for a minimum (∞ when U = 0).</param>
public readonly record struct ConstraintUsage(string Name, double Usage, double Bound, bool IsUpperBound, double Violation)
{
    /// <summary>True when the constraint holds (V = 0).</summary>
    public bool Satisfied => Violation == 0;
}

/// <summary>
/// The soft multi-constraint reward of EPNAS (paper Eq. 2–3, reconstructed as in RENA): reward = accuracy × Π_j p^{V_j},
/// with V_j the violation of constraint j (<see cref="ConstraintUsage.Violation"/>) and p the base penalty (0.9).
/// Any subset of the three constraints may be set; with none the reward is the accuracy.
/// </summary>
/// <param name="MaxParams">Upper bound on parameters, or null.</param>
/// <param name="MaxFlops">Upper bound on FLOPs (multiply-adds), or null.</param>
/// <param name="MinIntensity">Lower bound on compute intensity (FLOPs per byte moved), or null.</param>
/// <param name="BasePenalty">p in (0, 1].</param>
/// <param name="MaxViolation">An exploration limit (not in the paper; null = none): a sampled child whose violation of
/// any constraint exceeds it is never trained, and the search draws the action again (<see cref="EpnasSearch{TG}"/>).
/// 1 keeps children within twice an upper bound (half a lower bound). It bounds the cost of children far outside
/// the constraints, which with p = 0.9 cannot win and otherwise dominate the training time of a run.</param>
public sealed record EpnasConstraints(long? MaxParams = null, long? MaxFlops = null, double? MinIntensity = null, double BasePenalty = 0.9,
    double? MaxViolation = null)
{
    /// <summary>The violation of one constraint.</summary>
    public static double Violation(double usage, double bound, bool isUpperBound)
    {
        if (!(bound > 0)) throw new ArgumentOutOfRangeException(nameof(bound), $"EPNAS constraint: the bound must be positive, found {bound}");
        if (isUpperBound) return Math.Max(0, usage / bound - 1);
        return usage <= 0 ? double.PositiveInfinity : Math.Max(0, bound / usage - 1);
    }

    /// <summary>Checks the bounds; an impossible constraint is an error naming it.</summary>
    public EpnasConstraints Validated()
    {
        if (MaxParams is <= 0) throw new ArgumentException($"EPNAS constraint max-params must be positive, found {MaxParams}");
        if (MaxFlops is <= 0) throw new ArgumentException($"EPNAS constraint max-flops must be positive, found {MaxFlops}");
        if (MinIntensity is double m && !(m > 0)) throw new ArgumentException($"EPNAS constraint min-intensity must be positive, found {m}");
        if (!(BasePenalty is > 0 and <= 1)) throw new ArgumentException($"EPNAS base penalty p must be in (0, 1], found {BasePenalty}");
        if (MaxViolation is double v && !(v >= 0)) throw new ArgumentException($"EPNAS max-violation must be non-negative, found {v}");
        return this;
    }

    /// <summary>Usage and violation of every set constraint, in the order max-params, max-flops, min-intensity.</summary>
    public IReadOnlyList<ConstraintUsage> Evaluate(EpnasResources r)
    {
        var list = new List<ConstraintUsage>(3);
        if (MaxParams is long p) list.Add(new("max-params", r.Parameters, p, true, Violation(r.Parameters, p, true)));
        if (MaxFlops is long f) list.Add(new("max-flops", r.Flops, f, true, Violation(r.Flops, f, true)));
        if (MinIntensity is double i) list.Add(new("min-intensity", r.Intensity, i, false, Violation(r.Intensity, i, false)));
        return list;
    }

    /// <summary>accuracy × Π p^V.</summary>
    public double Reward(double accuracy, EpnasResources r) =>
        accuracy * Evaluate(r).Aggregate(1.0, (acc, u) => acc * Math.Pow(BasePenalty, u.Violation));

    /// <summary>True unless <see cref="MaxViolation"/> is set and some constraint is violated by more.</summary>
    public bool WithinExplorationLimit(EpnasResources r) => MaxViolation is not double limit || Evaluate(r).All(u => u.Violation <= limit);

    /// <summary>True when every set constraint holds.</summary>
    public bool SatisfiedBy(EpnasResources r) => Evaluate(r).All(u => u.Satisfied);
}
