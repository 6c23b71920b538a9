using SharpNas.Engine;
using SharpNas.Search.Importance;

namespace SharpNas.Tests.Search.Importance;

public sealed class InfFsTests
{
    [Fact]
    public void GraphOfAHandComputedCaseMatches()
    {
        // a = 1..5, b = 2·(5..1) (Spearman −1 with a), c = [2,1,4,3,5] (Spearman 0.8 with a, −0.8 with b).
        // σ: a = c = √2.5, b = 2√2.5. Normalised C: ab 0, ac 1, bc 1; normalised Σ: aa 0, ab 1, ac 0, bb 1, bc 1, cc 0.
        double[] a = [1, 2, 3, 4, 5], b = [10, 8, 6, 4, 2], c = [2, 1, 4, 3, 5];
        FeatureMatrix x = ImportanceData.Columns(5, s => a[s], s => b[s], s => c[s]);
        double[,] g = new InfFs().BuildGraph(x);
        double[,] expected = { { 0, 0.5, 0.5 }, { 0.5, 0.5, 1 }, { 0.5, 1, 0 } };
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) Assert.Equal(expected[i, j], g[i, j], 12);
    }

    [Fact]
    public void RowSumsEqualTheNeumannSeriesOfTheGraph()
    {
        (FeatureMatrix x, int[] labels) = ImportanceData.Classes(60, 5, 3, 2, 1.0, seed: 3);
        var inf = new InfFs();
        double[] scores = inf.Score(x, labels, 3);
        double[,] a = inf.BuildGraph(x);
        int p = 5;
        // ρ(A) by power iteration (A is non-negative and symmetric), then Σ_{k≥1} (rA)^k · 1.
        double[] v = Enumerable.Repeat(1.0, p).ToArray();
        double rho = 0;
        for (int it = 0; it < 2000; it++)
        {
            double[] w = MatVec(a, v);
            rho = Math.Sqrt(w.Sum(e => e * e));
            v = w.Select(e => e / rho).ToArray();
        }
        double r = 0.99 / rho;
        double[] term = Enumerable.Repeat(1.0, p).ToArray();
        var series = new double[p];
        for (int k = 1; k < 20_000; k++)
        {
            term = MatVec(a, term).Select(e => e * r).ToArray();
            for (int i = 0; i < p; i++) series[i] += term[i];
            if (term.Max() < 1e-14) break;
        }
        for (int i = 0; i < p; i++) Assert.Equal(series[i], scores[i], 1e-8 * Math.Abs(series[i]));
    }

    [Fact]
    public void DecorrelatedFeatureRanksFirstDuplicatesTieAndAConstantRanksLast()
    {
        var rng = new SeededRandom(17);
        double[] noise = Enumerable.Range(0, 200).Select(_ => rng.NextNormal()).ToArray();
        double[] other = Enumerable.Range(0, 200).Select(_ => rng.NextNormal()).ToArray();
        FeatureMatrix x = ImportanceData.Columns(200, s => noise[s], s => noise[s], s => other[s], s => 4.0);
        double[] scores = new InfFs().Score(x, new int[200], 1);
        Assert.Equal(scores[0], scores[1], 12);
        Assert.True(scores[2] > scores[0], $"independent {scores[2]} <= duplicated {scores[0]}");
        Assert.True(scores[0] > scores[3], $"duplicated {scores[0]} <= constant {scores[3]}");
    }

    [Fact]
    public void LabelsAreIgnoredAndResultsAreDeterministic()
    {
        (FeatureMatrix x, int[] labels) = ImportanceData.Classes(80, 6, 4, 2, 1.0, seed: 12);
        double[] first = new InfFs().Score(x, labels, 4);
        Assert.Equal(first, new InfFs().Score(x, labels, 4));
        Assert.Equal(first, new InfFs().Score(x, labels.Select(l => 3 - l).ToArray(), 4));
    }

    [Fact]
    public void AlphaWeighsDecorrelationAgainstSpread()
    {
        // f0 small spread but independent; f1, f2 large spread but duplicates.
        var rng = new SeededRandom(5);
        double[] u = Enumerable.Range(0, 100).Select(_ => rng.NextNormal()).ToArray();
        double[] w = Enumerable.Range(0, 100).Select(_ => rng.NextNormal()).ToArray();
        FeatureMatrix x = ImportanceData.Columns(100, s => 0.1 * u[s], s => 10 * w[s], s => 10 * w[s]);
        double[] decorrelation = new InfFs(new InfFsOptions { Alpha = 1 }).Score(x, new int[100], 1);
        double[] spread = new InfFs(new InfFsOptions { Alpha = 0 }).Score(x, new int[100], 1);
        Assert.True(decorrelation[0] > decorrelation[1]);
        Assert.True(spread[1] > spread[0]);
    }

    [Fact]
    public void BadInputIsRejected()
    {
        var inf = new InfFs();
        FeatureMatrix x = ImportanceData.Columns(3, s => s, s => double.PositiveInfinity);
        Assert.Contains("x[0, 1] is ∞", Assert.Throws<ArgumentException>(() => inf.Score(x, [0, 0, 0], 1)).Message.Replace("Infinity", "∞"));
        Assert.Contains("labels[1] = -1", Assert.Throws<ArgumentException>(() => inf.Score(ImportanceData.Columns(3, s => s), [0, -1, 0], 1)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new InfFs(new InfFsOptions { Alpha = 1.5 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new InfFs(new InfFsOptions { RadiusFactor = 1.0 }));
    }

    private static double[] MatVec(double[,] a, double[] v)
    {
        int p = v.Length;
        var y = new double[p];
        for (int i = 0; i < p; i++) for (int j = 0; j < p; j++) y[i] += a[i, j] * v[j];
        return y;
    }
}
