using System.Runtime.CompilerServices;
namespace SharpNas.Search.Importance;

/// <summary>
/// Infinite feature selection (Roffo, Melzi &amp; Cristani, ICCV 2015), unsupervised, as the project notes state it:
/// <list type="bullet">
/// <item>C_ij = 1 − |Spearman ρ_ij| (Pearson correlation of the average-tie ranks); a constant feature has no
/// defined correlation and gets C_ij = 0 with every feature (as the authors' code maps NaN to 0);</item>
/// <item>Σ_ij = max(σ_i, σ_j), σ = standard deviation (ddof = 1) of the <b>raw</b> feature — standardised features
/// would all have σ = 1 and make the term constant;</item>
/// <item>both matrices min-max normalised over all p² entries (diagonal included; all-equal → 0);</item>
/// <item>A = α·C + (1−α)·Σ; r = 0.99/ρ(A); S = (I − rA)⁻¹ − I; score_i = Σ_j S_ij.</item>
/// </list>
/// The labels are validated and ignored. Cost: one n·p² rank Gram pass plus an O(p³) eigen/LU step.
/// </summary>
public sealed class InfFs : IFeatureImportance
{
    /// <summary>Creates the criterion.</summary>
    public InfFs(InfFsOptions? options = null)
    {
        Options = options ?? new InfFsOptions();
        Options.Validate();
    }

    /// <summary>The options in use.</summary>
    public InfFsOptions Options { get; }

    /// <inheritdoc/>
    public ImportanceCriterion Criterion => ImportanceCriterion.InfFs;

    /// <inheritdoc/>
    public double[] Score(FeatureMatrix x, ReadOnlySpan<int> labels, int classes)
    {
        ImportanceInput.Validate(nameof(InfFs), x, labels, classes, supervised: false);
        double[] a = Graph(x);
        return InfinitePaths.RowSums(a, x.Columns, Options.RadiusFactor);
    }

    /// <summary>The graph A [p, p] the scores are computed from (for inspection and tests).</summary>
    public double[,] BuildGraph(FeatureMatrix x)
    {
        ArgumentNullException.ThrowIfNull(x);
        ImportanceInput.Validate(nameof(InfFs), x, new int[x.Rows], 1, supervised: false);
        double[] a = Graph(x);
        int p = x.Columns;
        var result = new double[p, p];
        for (int i = 0; i < p; i++)
            for (int j = 0; j < p; j++) result[i, j] = a[i * p + j];
        return result;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private double[] Graph(FeatureMatrix x)
    {
        int p = x.Columns;
        double[] corr = SpearmanDistance(x);
        double[] sigma = StandardDeviations(x);
        var spread = new double[p * p];
        for (int i = 0; i < p; i++)
            for (int j = 0; j < p; j++) spread[i * p + j] = Math.Max(sigma[i], sigma[j]);
        MinMaxNormalise(corr);
        MinMaxNormalise(spread);
        double alpha = Options.Alpha;
        var a = new double[p * p];
        for (int k = 0; k < a.Length; k++) a[k] = alpha * corr[k] + (1 - alpha) * spread[k];
        return a;
    }

    /// <summary>1 − |Spearman ρ| for every pair, 0 where a feature is constant.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static double[] SpearmanDistance(FeatureMatrix x)
    {
        int n = x.Rows, p = x.Columns;
        var ranks = new double[n * p];
        var keys = new float[n];
        var order = new int[n];
        ReadOnlySpan<float> v = x.Values;
        double center = (n + 1) / 2.0;
        for (int j = 0; j < p; j++)
        {
            for (int s = 0; s < n; s++) { keys[s] = v[s * p + j]; order[s] = s; }
            Array.Sort(keys, order);
            for (int start = 0; start < n;)
            {
                int end = start + 1;
                while (end < n && keys[end] == keys[start]) end++;
                double rank = (start + 1 + end) / 2.0; // average of 1-based ranks start+1 .. end
                for (int k = start; k < end; k++) ranks[order[k] * p + j] = rank - center;
                start = end;
            }
        }
        double[] g = DenseOps.Gram(ranks, n, p);
        var d = new double[p * p];
        for (int i = 0; i < p; i++)
            for (int j = 0; j < p; j++)
            {
                double gi = g[i * p + i], gj = g[j * p + j];
                d[i * p + j] = gi > 0 && gj > 0 ? 1 - Math.Min(1.0, Math.Abs(g[i * p + j]) / Math.Sqrt(gi * gj)) : 0.0;
            }
        return d;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double[] StandardDeviations(FeatureMatrix x)
    {
        int n = x.Rows, p = x.Columns;
        var mean = new double[p];
        var ss = new double[p];
        ReadOnlySpan<float> v = x.Values;
        for (int s = 0; s < n; s++) for (int j = 0; j < p; j++) mean[j] += v[s * p + j];
        for (int j = 0; j < p; j++) mean[j] /= n;
        for (int s = 0; s < n; s++) for (int j = 0; j < p; j++) { double d = v[s * p + j] - mean[j]; ss[j] += d * d; }
        for (int j = 0; j < p; j++) ss[j] = Math.Sqrt(ss[j] / (n - 1));
        return ss;
    }

    private static void MinMaxNormalise(double[] m)
    {
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
        foreach (double e in m) { lo = Math.Min(lo, e); hi = Math.Max(hi, e); }
        double range = hi - lo;
        for (int k = 0; k < m.Length; k++) m[k] = range > 0 ? (m[k] - lo) / range : 0.0;
    }
}
