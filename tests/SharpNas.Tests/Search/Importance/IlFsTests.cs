using SharpNas.Engine;
using SharpNas.Search.Importance;

namespace SharpNas.Tests.Search.Importance;

public sealed class IlFsTests
{
    /// <summary>3 informative features, 3 noise features, 1 constant.</summary>
    private static (FeatureMatrix X, int[] Labels) Mixed(ulong seed)
    {
        var rng = new SeededRandom(seed);
        int n = 300;
        var labels = Enumerable.Range(0, n).Select(_ => rng.NextInt(3)).ToArray();
        var columns = new Func<int, double>[7];
        double[][] values = new double[6][];
        for (int j = 0; j < 6; j++)
        {
            int jj = j;
            values[j] = Enumerable.Range(0, n).Select(s => rng.NextNormal() + (jj < 3 ? 2.0 * (labels[s] - 1) * (jj + 1) : 0)).ToArray();
            columns[j] = s => values[jj][s];
        }
        columns[6] = _ => 1.5;
        return (ImportanceData.Columns(n, columns), labels);
    }

    [Fact]
    public void InformativeFeaturesAreMostRelevantAndRankFirst()
    {
        (FeatureMatrix x, int[] labels) = Mixed(1);
        IlFsFit fit = new IlFs().Fit(x, labels, 3);
        double minInformative = fit.Scores.Take(3).Min();
        double maxOther = fit.Scores.Skip(3).Max();
        Assert.True(minInformative > maxOther, $"informative {minInformative} <= other {maxOther}");
        Assert.True(fit.Relevance.Take(3).Min() > fit.Relevance.Skip(3).Max());
    }

    [Fact]
    public void GraphIsTheSymmetricOuterProductAndScoresHaveTheRankOneClosedForm()
    {
        (FeatureMatrix x, int[] labels) = Mixed(2);
        IlFsFit fit = new IlFs().Fit(x, labels, 3);
        double[] r = fit.Relevance;
        int p = r.Length;
        for (int i = 0; i < p; i++)
            for (int j = 0; j < p; j++)
            {
                Assert.Equal(fit.Graph[i, j], fit.Graph[j, i]);
                Assert.Equal(r[i] * r[j], fit.Graph[i, j], 15);
            }
        // G = r rᵀ: ρ = ‖r‖², and (I − c r rᵀ)⁻¹ − I = c r rᵀ / (1 − c‖r‖²) (Sherman–Morrison), c = 0.99/‖r‖².
        double norm2 = r.Sum(e => e * e), total = r.Sum();
        double scale = fit.Scores.Max();
        for (int i = 0; i < p; i++)
        {
            double closed = 0.99 / 0.01 * r[i] * total / norm2;
            Assert.Equal(closed, fit.Scores[i], 1e-9 * scale);
        }
    }

    [Fact]
    public void PlsaStaysNormalisedAndEmNeverDecreasesTheLikelihood()
    {
        (FeatureMatrix x, int[] labels) = Mixed(3);
        foreach (IlFsInitialization init in Enum.GetValues<IlFsInitialization>())
        {
            IlFsFit fit = new IlFs(new IlFsOptions { Initialization = init, Seed = 7 }).Fit(x, labels, 3);
            Assert.Equal(15, fit.LogLikelihood.Length);
            for (int k = 1; k < fit.LogLikelihood.Length; k++)
                Assert.True(fit.LogLikelihood[k] >= fit.LogLikelihood[k - 1] - 1e-9, $"{init}: EM step {k} lowered the likelihood");
            for (int z = 0; z < 2; z++)
                Assert.Equal(1.0, Enumerable.Range(0, 3).Sum(t => fit.TokenGivenFactor[t, z]), 12);
            for (int f = 0; f < 7; f++)
            {
                Assert.Equal(1.0, fit.FactorGivenFeature[0, f] + fit.FactorGivenFeature[1, f], 12);
                Assert.Equal(300, Enumerable.Range(0, 3).Sum(t => fit.TokenCounts[t, f]));
            }
            Assert.Equal(2, fit.Thresholds.Length);
            Assert.True(fit.Thresholds[0] <= fit.Thresholds[1]);
        }
    }

    [Fact]
    public void TheRandomStartFindsTheSameInformativeFeatures()
    {
        (FeatureMatrix x, int[] labels) = Mixed(4);
        double[] scores = new IlFs(new IlFsOptions { Initialization = IlFsInitialization.Random, Seed = 99, EmIterations = 50 }).Score(x, labels, 3);
        Assert.True(scores.Take(3).Min() > scores.Skip(3).Max());
    }

    [Fact]
    public void TheSameSeedGivesTheSameScoresAndTheSeedOnlyJittersTheStart()
    {
        (FeatureMatrix x, int[] labels) = Mixed(5);
        double[] a = new IlFs(new IlFsOptions { Seed = 1 }).Score(x, labels, 3);
        Assert.Equal(a, new IlFs(new IlFsOptions { Seed = 1 }).Score(x, labels, 3));
        double[] b = new IlFs(new IlFsOptions { Seed = 2 }).Score(x, labels, 3);
        Assert.NotEqual(a, b);
        for (int i = 0; i < a.Length; i++) Assert.Equal(a[i], b[i], 0.05 * Math.Abs(a[i]) + 1e-9);
    }

    [Fact]
    public void TheDiscriminativeValueIsTheOwnClassPosterior()
    {
        // One feature, two classes with means 0 and 2 (values −1,1 | 1,3); pooled within-class variance
        // σ² = (1+1+1+1)/(n − classes) = 2; u = 1 / (1 + exp(−(x−μ_other)²/(2σ²) + (x−μ_own)²/(2σ²))).
        FeatureMatrix x = ImportanceData.Columns(4, s => new[] { -1.0, 1.0, 1.0, 3.0 }[s]);
        int[] labels = [0, 0, 1, 1];
        double[] u = IlFs.OwnClassPosterior(x, labels, 2);
        double Posterior(double v, double own, double other) => 1 / (1 + Math.Exp(-(v - other) * (v - other) / 4 + (v - own) * (v - own) / 4));
        Assert.Equal(Posterior(-1, 0, 2), u[0], 12);
        Assert.Equal(Posterior(1, 0, 2), u[1], 12);
        Assert.Equal(Posterior(1, 2, 0), u[2], 12);
        Assert.Equal(Posterior(3, 2, 0), u[3], 12);
    }

    [Fact]
    public void BadInputIsRejected()
    {
        var il = new IlFs();
        FeatureMatrix x = ImportanceData.Columns(4, s => s);
        Assert.Contains("single class", Assert.Throws<ArgumentException>(() => il.Score(x, [2, 2, 2, 2], 3)).Message);
        Assert.Contains("labels[3] = 3", Assert.Throws<ArgumentException>(() => il.Score(x, [0, 1, 2, 3], 3)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new IlFs(new IlFsOptions { Tokens = 1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new IlFs(new IlFsOptions { LatentFactors = 1 }));
    }
}
