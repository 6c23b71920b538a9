using System.Runtime.CompilerServices;
using MathNet.Numerics.LinearAlgebra;

namespace SharpNas.Search.Importance;

/// <summary>
/// A fitted PLS2 model and the VIP of each feature. Matrices are [rows, components]; column a is component a.
/// Names follow scikit-learn's attributes (<c>x_weights_</c> = <see cref="XWeights"/>, …). Component signs follow
/// the rule "the largest |entry| of w_a is positive"; VIP and <see cref="SumOfSquares"/> do not depend on them.
/// </summary>
/// <param name="XMean">Per-feature mean.</param>
/// <param name="XStd">Per-feature standard deviation (ddof = 1; 1 for a constant feature).</param>
/// <param name="YMean">Per-class mean of the one-hot targets (the class frequencies).</param>
/// <param name="YStd">Per-class standard deviation of the one-hot targets (ddof = 1; 1 for an absent class).</param>
/// <param name="XWeights">W [p, k]: the weight vectors w_a (unit norm up to eps).</param>
/// <param name="XScores">T [n, k]: the scores t_a = X_a w_a.</param>
/// <param name="YLoadings">Q [classes, k]: q_a = Y_aᵀ t_a / (t_aᵀ t_a).</param>
/// <param name="XLoadings">P [p, k]: p_a = X_aᵀ t_a / (t_aᵀ t_a).</param>
/// <param name="SumOfSquares">SS_a = (q_aᵀ q_a)(t_aᵀ t_a), the Y variance component a explains.</param>
/// <param name="Vip">VIP_j = sqrt(p · Σ_a SS_a (w_ja/‖w_a‖)² / Σ_a SS_a); Σ_j VIP_j² = p.</param>
/// <param name="Iterations">Power iterations per component (0 for <see cref="PlsWeights.Exact"/> or a
/// component that was not fitted).</param>
public sealed record PlsVipFit(
    double[] XMean, double[] XStd, double[] YMean, double[] YStd,
    double[,] XWeights, double[,] XScores, double[,] YLoadings, double[,] XLoadings,
    double[] SumOfSquares, double[] Vip, int[] Iterations)
{
    /// <summary>Mean VIP over the features: the stage score (in (0, 1], since the mean of VIP² is 1).</summary>
    public double VipMean => Vip.Average();
}

/// <summary>
/// Partial least squares (PLS2, NIPALS, "regression" deflation) of the standardised features against the
/// standardised one-hot labels, and the variable importance in projection (VIP) of every feature — the criterion
/// of the authors' code (scikit-learn's <c>PLSRegression(n_components=2, scale=True)</c>).
/// <para>Numerics: everything in float64; the linear algebra is hand-written except the exact weights, which take
/// the leading eigenvector of the smaller of Sxyᵀ Sxy / Sxy Sxyᵀ from MathNet.Numerics' symmetric EVD. The power
/// iteration runs on the cross-products XᵀX (p×p), XᵀY (p×q), YᵀY (q×q) when p ≤
/// <see cref="PlsVipOptions.MaxGramFeatures"/>, deflated by their exact rank-1 updates; no n×n matrix is formed.</para>
/// <para>Constant features: standardised to exactly 0 (mean = their value, std = 1, as sklearn's std 0 → 1); at least
/// one feature must vary. If the features have no covariance with the labels at all, every VIP is 1.</para>
/// </summary>
public sealed class PlsVip : IFeatureImportance
{
    private const double Eps = 2.220446049250313e-16; // float64 machine epsilon, as sklearn's np.finfo(float64).eps

    /// <summary>Creates the criterion.</summary>
    public PlsVip(PlsVipOptions? options = null)
    {
        Options = options ?? new PlsVipOptions();
        Options.Validate();
    }

    /// <summary>The options in use.</summary>
    public PlsVipOptions Options { get; }

    /// <inheritdoc/>
    public ImportanceCriterion Criterion => ImportanceCriterion.PlsVip;

    /// <inheritdoc/>
    public double[] Score(FeatureMatrix x, ReadOnlySpan<int> labels, int classes) => Fit(x, labels, classes).Vip;

    /// <summary>Fits the PLS model and returns weights, scores, loadings and VIP.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public PlsVipFit Fit(FeatureMatrix x, ReadOnlySpan<int> labels, int classes)
    {
        ImportanceInput.Validate(nameof(PlsVip), x, labels, classes, supervised: true);
        int n = x.Rows, p = x.Columns, q = classes, k = Options.Components;
        if (k > p)
            throw new ArgumentException($"PlsVip: {k} components need at least {k} features, x has {p}", nameof(x));

        // ---- standardise X (n×p, row-major) ----
        var xMean = new double[p];
        var xStd = new double[p];
        var varies = new bool[p];
        ReadOnlySpan<float> v = x.Values;
        for (int s = 0; s < n; s++)
        {
            ReadOnlySpan<float> row = v.Slice(s * p, p);
            for (int j = 0; j < p; j++)
            {
                xMean[j] += row[j];
                if (row[j] != v[j]) varies[j] = true;
            }
        }
        for (int j = 0; j < p; j++) xMean[j] = varies[j] ? xMean[j] / n : v[j];
        for (int s = 0; s < n; s++)
        {
            ReadOnlySpan<float> row = v.Slice(s * p, p);
            for (int j = 0; j < p; j++) { double d = row[j] - xMean[j]; xStd[j] += d * d; }
        }
        int varying = 0;
        for (int j = 0; j < p; j++)
        {
            xStd[j] = Math.Sqrt(xStd[j] / (n - 1));
            if (!varies[j] || xStd[j] == 0) xStd[j] = 1.0;
            if (varies[j]) varying++;
        }
        if (varying == 0)
            throw new ArgumentException($"PlsVip: all {p} features of x are constant; PLS needs at least one that varies", nameof(x));
        var xk = new double[n * p];
        for (int s = 0; s < n; s++)
        {
            ReadOnlySpan<float> row = v.Slice(s * p, p);
            Span<double> dst = xk.AsSpan(s * p, p);
            for (int j = 0; j < p; j++) dst[j] = (row[j] - xMean[j]) / xStd[j];
        }

        // ---- standardise the one-hot Y, stored column-major (q columns of n) ----
        var counts = new int[q];
        foreach (int label in labels) counts[label]++;
        var yMean = new double[q];
        var yStd = new double[q];
        var yk = new double[q * n];
        for (int c = 0; c < q; c++)
        {
            double m = (double)counts[c] / n;
            double ss = counts[c] * (1 - m) * (1 - m) + (n - counts[c]) * m * m;
            double sd = Math.Sqrt(ss / (n - 1));
            if (sd == 0) sd = 1.0;
            yMean[c] = m;
            yStd[c] = sd;
            double off = (0 - m) / sd, on = (1 - m) / sd;
            Span<double> col = yk.AsSpan(c * n, n);
            col.Fill(off);
            for (int s = 0; s < n; s++) if (labels[s] == c) col[s] = on;
        }

        // ---- cross-products: SxyT (q×p) = (XᵀY)ᵀ, and for the Gram path XᵀX, YᵀY ----
        var sxyT = new double[q * p];
        for (int c = 0; c < q; c++) DenseOps.MatTVec(xk, n, p, yk.AsSpan(c * n, n), sxyT.AsSpan(c * p, p));
        bool gram = Options.Weights == PlsWeights.SklearnDefault && p <= Options.MaxGramFeatures;
        double[]? sxx = gram ? DenseOps.Gram(xk, n, p) : null;
        double[]? syy = null;
        if (gram)
        {
            syy = new double[q * q];
            for (int c = 0; c < q; c++)
                for (int d = 0; d <= c; d++)
                    syy[c * q + d] = syy[d * q + c] = DenseOps.Dot(yk.AsSpan(c * n, n), yk.AsSpan(d * n, n));
        }

        var weights = new double[p, k];
        var scores = new double[n, k];
        var yLoad = new double[q, k];
        var xLoad = new double[p, k];
        var ssA = new double[k];
        var iterations = new int[k];
        double degenerate = 1e-20 * (n - 1) * varying; // t'Σt below this: nothing left to explain
        var w = new double[p];
        var t = new double[n];
        var pa = new double[p];
        var qa = new double[q];

        for (int a = 0; a < k; a++)
        {
            // (0) residual Y columns that are numerically zero become exactly zero
            for (int c = 0; c < q; c++)
            {
                Span<double> col = yk.AsSpan(c * n, n);
                bool small = true;
                foreach (double y in col) if (Math.Abs(y) >= 10 * Eps) { small = false; break; }
                if (!small) continue;
                col.Clear();
                sxyT.AsSpan(c * p, p).Clear();
                if (syy is not null) for (int d = 0; d < q; d++) syy[c * q + d] = syy[d * q + c] = 0;
            }

            // (1) weights
            bool found = Options.Weights == PlsWeights.Exact
                ? ExactWeights(sxyT, q, p, w)
                : PowerIteration(xk, yk, sxyT, sxx, syy, n, p, q, w, out iterations[a]);
            if (!found) break;

            // (2) sign: the entry of largest magnitude (first on ties) is positive
            int jStar = 0;
            for (int j = 1; j < p; j++) if (Math.Abs(w[j]) > Math.Abs(w[jStar])) jStar = j;
            if (w[jStar] < 0) for (int j = 0; j < p; j++) w[j] = -w[j];

            // (3) scores and loadings
            DenseOps.MatVec(xk, n, p, w, t);
            double tt = DenseOps.Dot(t, t);
            if (!(tt > degenerate)) { iterations[a] = 0; break; }
            DenseOps.MatTVec(xk, n, p, t, pa);
            for (int j = 0; j < p; j++) pa[j] /= tt;
            for (int c = 0; c < q; c++) qa[c] = DenseOps.Dot(yk.AsSpan(c * n, n), t) / tt;

            // (4) regression deflation of the data and of the cross-products (exact rank-1 updates)
            DenseOps.SubtractOuter(xk, n, p, 1.0, t, pa);
            for (int c = 0; c < q; c++)
                if (qa[c] != 0) System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(t, -qa[c], yk.AsSpan(c * n, n), yk.AsSpan(c * n, n));
            DenseOps.SubtractOuter(sxyT, q, p, tt, qa, pa);
            if (sxx is not null) DenseOps.SubtractOuter(sxx, p, p, tt, pa, pa);
            if (syy is not null) DenseOps.SubtractOuter(syy, q, q, tt, qa, qa);

            double qq = 0;
            for (int c = 0; c < q; c++) qq += qa[c] * qa[c];
            ssA[a] = qq * tt;
            for (int j = 0; j < p; j++) { weights[j, a] = w[j]; xLoad[j, a] = pa[j]; }
            for (int s = 0; s < n; s++) scores[s, a] = t[s];
            for (int c = 0; c < q; c++) yLoad[c, a] = qa[c];
        }

        return new PlsVipFit(xMean, xStd, yMean, yStd, weights, scores, yLoad, xLoad, ssA, Vip(weights, ssA), iterations);
    }

    /// <summary>VIP_j = sqrt(p Σ_a SS_a (w_ja/‖w_a‖)² / Σ_a SS_a); all 1 when Σ SS = 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double[] Vip(double[,] weights, double[] ss)
    {
        int p = weights.GetLength(0), k = weights.GetLength(1);
        var vip = new double[p];
        double total = ss.Sum();
        if (!(total > 0)) { Array.Fill(vip, 1.0); return vip; }
        var norm2 = new double[k];
        for (int a = 0; a < k; a++)
            for (int j = 0; j < p; j++) norm2[a] += weights[j, a] * weights[j, a];
        for (int j = 0; j < p; j++)
        {
            double acc = 0;
            for (int a = 0; a < k; a++)
                if (ss[a] > 0 && norm2[a] > 0) acc += ss[a] * weights[j, a] * weights[j, a] / norm2[a];
            vip[j] = Math.Sqrt(p * acc / total);
        }
        return vip;
    }

    /// <summary>w = first left singular vector of Sxy (p×q), from the leading eigenvector of the smaller Gram
    /// matrix. False when Sxy is zero.</summary>
    private static bool ExactWeights(double[] sxyT, int q, int p, double[] w)
    {
        double norm = 0;
        foreach (double e in sxyT) norm = Math.Max(norm, Math.Abs(e));
        if (!(norm > 0)) return false;
        if (q <= p)
        {
            // K = SxyᵀSxy (q×q) = SxyT SxyTᵀ; w ∝ Sxy c₁ = SxyTᵀ c₁
            var kq = Matrix<double>.Build.Dense(q, q, (c, d) => DenseOps.Dot(sxyT.AsSpan(c * p, p), sxyT.AsSpan(d * p, p)));
            var c1 = LeadingEigenvector(kq);
            DenseOps.MatTVec(sxyT, q, p, c1, w);
        }
        else
        {
            // K = Sxy Sxyᵀ (p×p); w = its leading eigenvector
            var kp = Matrix<double>.Build.Dense(p, p, (i, j) =>
            {
                double acc = 0;
                for (int c = 0; c < q; c++) acc += sxyT[c * p + i] * sxyT[c * p + j];
                return acc;
            });
            LeadingEigenvector(kp).CopyTo(w, 0);
        }
        double len = Math.Sqrt(DenseOps.Dot(w, w));
        if (!(len > 0)) return false;
        for (int j = 0; j < w.Length; j++) w[j] /= len;
        return true;
    }

    private static double[] LeadingEigenvector(Matrix<double> symmetric)
    {
        var evd = symmetric.Evd(Symmetricity.Symmetric);
        int best = 0;
        for (int i = 1; i < evd.EigenValues.Count; i++)
            if (evd.EigenValues[i].Real > evd.EigenValues[best].Real) best = i;
        return evd.EigenVectors.Column(best).ToArray();
    }

    /// <summary>scikit-learn's NIPALS power iteration (mode A, no y-weight normalisation), step by step. The
    /// y-score is kept as y = Y_k v, so on the Gram path every product is a small cross-product. False when Y_k has
    /// no non-zero column or the iteration degenerates.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool PowerIteration(double[] xk, double[] yk, double[] sxyT, double[]? sxx, double[]? syy,
        int n, int p, int q, double[] w, out int iterations)
    {
        iterations = 0;
        int first = -1;
        for (int c = 0; c < q && first < 0; c++)
            foreach (double y in yk.AsSpan(c * n, n))
                if (Math.Abs(y) > Eps) { first = c; break; }
        if (first < 0) return false;

        var vy = new double[q];
        vy[first] = 1.0;
        var cw = new double[q];
        var wOld = new double[p];
        Array.Fill(wOld, 100.0);
        double[]? yScore = sxx is null ? new double[n] : null;
        double[]? xScore = sxx is null ? new double[n] : null;
        double[]? sxxW = sxx is null ? null : new double[p];

        for (int it = 0; it < Options.MaxIterations; it++)
        {
            // w = Xᵀ y / (yᵀ y), y = Y v
            double yy;
            if (sxx is not null)
            {
                DenseOps.MatTVec(sxyT, q, p, vy, w);
                yy = 0;
                for (int c = 0; c < q; c++)
                    for (int d = 0; d < q; d++) yy += vy[c] * syy![c * q + d] * vy[d];
            }
            else
            {
                Array.Clear(yScore!);
                for (int c = 0; c < q; c++)
                    if (vy[c] != 0) System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(yk.AsSpan(c * n, n), vy[c], yScore, yScore);
                DenseOps.MatTVec(xk, n, p, yScore, w);
                yy = DenseOps.Dot(yScore, yScore);
            }
            if (!(yy > 0)) return false;
            for (int j = 0; j < p; j++) w[j] /= yy;
            double wn = Math.Sqrt(DenseOps.Dot(w, w)) + Eps;
            for (int j = 0; j < p; j++) w[j] /= wn;

            // c = Yᵀ x / (xᵀ x), x = X w
            double xx;
            if (sxx is not null)
            {
                DenseOps.MatVec(sxx, p, p, w, sxxW!);
                xx = DenseOps.Dot(w, sxxW);
                DenseOps.MatVec(sxyT, q, p, w, cw);
            }
            else
            {
                DenseOps.MatVec(xk, n, p, w, xScore!);
                xx = DenseOps.Dot(xScore, xScore);
                for (int c = 0; c < q; c++) cw[c] = DenseOps.Dot(yk.AsSpan(c * n, n), xScore);
            }
            if (!(xx > 0)) return false;
            double cc = 0;
            for (int c = 0; c < q; c++) { cw[c] /= xx; cc += cw[c] * cw[c]; }
            for (int c = 0; c < q; c++) vy[c] = cw[c] / (cc + Eps);

            iterations = it + 1;
            double diff = 0;
            for (int j = 0; j < p; j++) { double d = w[j] - wOld[j]; diff += d * d; }
            if (diff < Options.Tolerance || q == 1) break;
            Array.Copy(w, wOld, p);
        }
        return true;
    }
}
