using System.Runtime.CompilerServices;
using SharpNas.Engine;

namespace SharpNas.Search.Importance;

/// <summary>A fitted il-FS model (for inspection and tests).</summary>
/// <param name="Thresholds">The T−1 pooled quantiles of the own-class posterior that cut it into tokens (ascending).</param>
/// <param name="TokenCounts">n(t, f) [T, p]: how many samples of feature f got token t (token 0 = most discriminative).</param>
/// <param name="TokenGivenFactor">P(t | z) [T, K] after EM.</param>
/// <param name="FactorGivenFeature">P(z | f) [K, p] after EM.</param>
/// <param name="RelevantFactor">The factor taken as "relevant" (the one with the highest expected token goodness).</param>
/// <param name="Relevance">P(relevant | f) [p].</param>
/// <param name="Graph">G [p, p] = P(rel|i)·P(rel|j).</param>
/// <param name="LogLikelihood">Σ_{t,f} n(t,f) log P(t|f) after each EM iteration (non-decreasing).</param>
/// <param name="Scores">Row sums of (I − rG)⁻¹ − I [p].</param>
public sealed record IlFsFit(
    double[] Thresholds, int[,] TokenCounts, double[,] TokenGivenFactor, double[,] FactorGivenFeature,
    int RelevantFactor, double[] Relevance, double[,] Graph, double[] LogLikelihood, double[] Scores);

/// <summary>
/// Infinite latent feature selection (Roffo, Melzi, Castellani &amp; Vinciarelli, ICCV 2017), supervised.
/// <list type="number">
/// <item><b>Discriminative value</b> [reconstructed]: for sample s and feature f,
/// u_sf = P(own class | x_sf) under a one-dimensional Gaussian class model with the feature's class means, its
/// pooled within-class variance and equal priors over the classes present (u = 1/C for a constant feature). The
/// authors' code uses a similar own-class distance share, written for two classes; this generalises it.</item>
/// <item><b>Tokens</b> [reconstructed]: u is cut at its (k/T)-quantiles pooled over all samples and features
/// (numpy's linear interpolation), T = 3 by default; token 0 = u above the top quantile (well-represented sample),
/// token T−1 = below the lowest. Per-feature quantiles would give every feature the same histogram.</item>
/// <item><b>PLSA</b>: documents = features, words = tokens, K = 2 latent factors, EM for exactly 15 iterations.
/// Supervised start (default, as the authors): P(t | relevant) decreasing, P(t | irrelevant) increasing linearly in t;
/// P(relevant | f) = the feature's Laplace-smoothed share of token 0; a seeded multiplicative jitter (1%).
/// The relevant factor is the one with the highest Σ_t P(t|z)·(T−1−t)/(T−1).</item>
/// <item>G_ij = P(rel|i)·P(rel|j); r = 0.99/ρ(G); score_i = Σ_j [(I − rG)⁻¹ − I]_ij.</item>
/// </list>
/// </summary>
public sealed class IlFs : IFeatureImportance
{
    /// <summary>Creates the criterion.</summary>
    public IlFs(IlFsOptions? options = null)
    {
        Options = options ?? new IlFsOptions();
        Options.Validate();
    }

    /// <summary>The options in use.</summary>
    public IlFsOptions Options { get; }

    /// <inheritdoc/>
    public ImportanceCriterion Criterion => ImportanceCriterion.IlFs;

    /// <inheritdoc/>
    public double[] Score(FeatureMatrix x, ReadOnlySpan<int> labels, int classes) => Fit(x, labels, classes).Scores;

    /// <summary>Runs the whole criterion and returns every intermediate.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public IlFsFit Fit(FeatureMatrix x, ReadOnlySpan<int> labels, int classes)
    {
        ImportanceInput.Validate(nameof(IlFs), x, labels, classes, supervised: true);
        int n = x.Rows, p = x.Columns, T = Options.Tokens, K = Options.LatentFactors;

        double[] u = Posterior(x, labels, classes);
        double[] thresholds = PooledQuantiles(u, T);
        var counts = new int[T, p];
        for (int s = 0; s < n; s++)
            for (int f = 0; f < p; f++)
            {
                double value = u[s * p + f];
                int above = 0;
                foreach (double th in thresholds) if (value > th) above++;
                counts[T - 1 - above, f]++;
            }

        // ---- PLSA: P(t|z) [T,K], P(z|f) [K,p] ----
        var ptz = new double[T, K];
        var pzf = new double[K, p];
        var random = new SeededRandom(Options.Seed).Derive("ilfs/init");
        if (Options.Initialization == IlFsInitialization.Supervised)
        {
            for (int z = 0; z < K; z++)
            {
                double lambda = (double)z / (K - 1);
                for (int t = 0; t < T; t++) ptz[t, z] = (1 - lambda) * (T - t) + lambda * (t + 1);
            }
            for (int f = 0; f < p; f++)
            {
                double prior = (counts[0, f] + 1.0) / (n + 2.0);
                pzf[0, f] = prior;
                for (int z = 1; z < K; z++) pzf[z, f] = (1 - prior) / (K - 1);
            }
            double jitter = Options.InitialJitter;
            for (int t = 0; t < T; t++) for (int z = 0; z < K; z++) ptz[t, z] *= 1 + jitter * random.NextDouble();
            for (int z = 0; z < K; z++) for (int f = 0; f < p; f++) pzf[z, f] *= 1 + jitter * random.NextDouble();
        }
        else
        {
            for (int t = 0; t < T; t++) for (int z = 0; z < K; z++) ptz[t, z] = 0.05 + random.NextDouble();
            for (int z = 0; z < K; z++) for (int f = 0; f < p; f++) pzf[z, f] = 0.05 + random.NextDouble();
        }
        NormaliseColumns(ptz);
        NormaliseColumns(pzf);

        var logLikelihood = new double[Options.EmIterations];
        var accTz = new double[T, K];
        var accZf = new double[K, p];
        var joint = new double[K];
        for (int it = 0; it < Options.EmIterations; it++)
        {
            Array.Clear(accTz);
            Array.Clear(accZf);
            for (int f = 0; f < p; f++)
                for (int t = 0; t < T; t++)
                {
                    int c = counts[t, f];
                    if (c == 0) continue;
                    double total = 0;
                    for (int z = 0; z < K; z++) { joint[z] = ptz[t, z] * pzf[z, f]; total += joint[z]; }
                    if (!(total > 0)) continue;
                    for (int z = 0; z < K; z++)
                    {
                        double share = c * joint[z] / total; // n(t,f)·P(z | t, f)
                        accTz[t, z] += share;
                        accZf[z, f] += share;
                    }
                }
            for (int z = 0; z < K; z++)
            {
                double sum = 0;
                for (int t = 0; t < T; t++) sum += accTz[t, z];
                for (int t = 0; t < T; t++) ptz[t, z] = sum > 0 ? accTz[t, z] / sum : 1.0 / T;
            }
            for (int f = 0; f < p; f++)
            {
                double sum = 0;
                for (int z = 0; z < K; z++) sum += accZf[z, f];
                for (int z = 0; z < K; z++) pzf[z, f] = sum > 0 ? accZf[z, f] / sum : 1.0 / K;
            }
            logLikelihood[it] = LogLikelihood(counts, ptz, pzf);
        }

        int relevant = 0;
        double bestGoodness = double.NegativeInfinity;
        for (int z = 0; z < K; z++)
        {
            double goodness = 0;
            for (int t = 0; t < T; t++) goodness += ptz[t, z] * (T - 1 - t) / (T - 1);
            if (goodness > bestGoodness) { bestGoodness = goodness; relevant = z; }
        }
        var relevance = new double[p];
        for (int f = 0; f < p; f++) relevance[f] = pzf[relevant, f];
        var g = new double[p * p];
        var graph = new double[p, p];
        for (int i = 0; i < p; i++)
            for (int j = 0; j < p; j++) graph[i, j] = g[i * p + j] = relevance[i] * relevance[j];
        double[] scores = InfinitePaths.RowSums(g, p, Options.RadiusFactor);
        return new IlFsFit(thresholds, counts, ptz, pzf, relevant, relevance, graph, logLikelihood, scores);
    }

    private static double LogLikelihood(int[,] counts, double[,] ptz, double[,] pzf)
    {
        int T = counts.GetLength(0), p = counts.GetLength(1), K = pzf.GetLength(0);
        double ll = 0;
        for (int f = 0; f < p; f++)
            for (int t = 0; t < T; t++)
            {
                if (counts[t, f] == 0) continue;
                double ptf = 0;
                for (int z = 0; z < K; z++) ptf += ptz[t, z] * pzf[z, f];
                ll += counts[t, f] * Math.Log(ptf);
            }
        return ll;
    }

    private static void NormaliseColumns(double[,] m)
    {
        int rows = m.GetLength(0), cols = m.GetLength(1);
        for (int j = 0; j < cols; j++)
        {
            double sum = 0;
            for (int i = 0; i < rows; i++) sum += m[i, j];
            for (int i = 0; i < rows; i++) m[i, j] /= sum;
        }
    }

    /// <summary>The discriminative value il-FS tokenises: u_sf = P(class of s | x_sf) under per-class Gaussians with
    /// the class means and pooled within-class variance of feature f and equal priors over the classes present
    /// (1/C for a constant feature). Row-major n×p.</summary>
    public static double[] OwnClassPosterior(FeatureMatrix x, ReadOnlySpan<int> labels, int classes)
    {
        ImportanceInput.Validate(nameof(IlFs), x, labels, classes, supervised: false);
        return Posterior(x, labels, classes);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double[] Posterior(FeatureMatrix x, ReadOnlySpan<int> labels, int classes)
    {
        int n = x.Rows, p = x.Columns;
        ReadOnlySpan<float> v = x.Values;
        var count = new int[classes];
        foreach (int label in labels) count[label]++;
        int[] present = Enumerable.Range(0, classes).Where(c => count[c] > 0).ToArray();
        int m = present.Length;
        var means = new double[classes * p];
        var total = new double[p];
        for (int s = 0; s < n; s++)
        {
            int c = labels[s];
            for (int f = 0; f < p; f++) { means[c * p + f] += v[s * p + f]; total[f] += v[s * p + f]; }
        }
        foreach (int c in present) for (int f = 0; f < p; f++) means[c * p + f] /= count[c];
        for (int f = 0; f < p; f++) total[f] /= n;
        var within = new double[p];
        var spread = new double[p];
        for (int s = 0; s < n; s++)
        {
            int c = labels[s];
            for (int f = 0; f < p; f++)
            {
                double d = v[s * p + f] - means[c * p + f];
                within[f] += d * d;
                double e = v[s * p + f] - total[f];
                spread[f] += e * e;
            }
        }
        var halfInverseVariance = new double[p];
        var constant = new bool[p];
        for (int f = 0; f < p; f++)
        {
            double variance = within[f] / Math.Max(n - m, 1);
            double overall = spread[f] / (n - 1);
            constant[f] = !(overall > 0);
            variance = Math.Max(variance, 1e-12 * overall);
            halfInverseVariance[f] = constant[f] ? 0 : 0.5 / variance;
        }

        var u = new double[n * p];
        var logits = new double[m];
        for (int s = 0; s < n; s++)
        {
            int own = labels[s];
            for (int f = 0; f < p; f++)
            {
                if (constant[f]) { u[s * p + f] = 1.0 / m; continue; }
                double value = v[s * p + f], h = halfInverseVariance[f];
                double best = double.NegativeInfinity, ownLogit = 0;
                for (int k = 0; k < m; k++)
                {
                    int c = present[k];
                    double d = value - means[c * p + f];
                    logits[k] = -d * d * h;
                    if (logits[k] > best) best = logits[k];
                    if (c == own) ownLogit = logits[k];
                }
                double z = 0;
                for (int k = 0; k < m; k++) z += Math.Exp(logits[k] - best);
                u[s * p + f] = Math.Exp(ownLogit - best) / z;
            }
        }
        return u;
    }

    /// <summary>The (k/T)-quantiles, k = 1..T−1, of all values (linear interpolation between order statistics).</summary>
    internal static double[] PooledQuantiles(double[] values, int tokens)
    {
        double[] sorted = (double[])values.Clone();
        Array.Sort(sorted);
        var q = new double[tokens - 1];
        for (int k = 1; k < tokens; k++)
        {
            double h = (sorted.Length - 1) * (double)k / tokens;
            int lo = (int)Math.Floor(h);
            int hi = Math.Min(lo + 1, sorted.Length - 1);
            q[k - 1] = sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
        }
        return q;
    }
}
