using System.Diagnostics;
using SharpNas.Search.Importance;
using Xunit.Abstractions;

namespace SharpNas.Tests.Search.Importance;

public sealed class PlsVipTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(PlsWeights.SklearnDefault, 2, 1024)]
    [InlineData(PlsWeights.SklearnDefault, 3, 0)]
    [InlineData(PlsWeights.Exact, 2, 1024)]
    [InlineData(PlsWeights.Exact, 4, 1024)]
    public void SumOfSquaredVipEqualsTheFeatureCount(PlsWeights weights, int components, int maxGram)
    {
        (FeatureMatrix x, int[] labels) = ImportanceData.Classes(300, 40, 5, 6, 1.0, seed: 11);
        PlsVipFit fit = new PlsVip(new PlsVipOptions { Weights = weights, Components = components, MaxGramFeatures = maxGram })
            .Fit(x, labels, 5);
        Assert.Equal(40.0, fit.Vip.Sum(v => v * v), 9);
        Assert.InRange(fit.VipMean, 0.0, 1.0 + 1e-12);
        Assert.All(fit.Vip, v => Assert.True(v >= 0));
    }

    [Theory]
    [InlineData(PlsWeights.SklearnDefault)]
    [InlineData(PlsWeights.Exact)]
    public void EachWeightVectorHasItsLargestEntryPositiveAndUnitNorm(PlsWeights weights)
    {
        (FeatureMatrix x, int[] labels) = ImportanceData.Classes(200, 30, 4, 5, 1.5, seed: 5);
        PlsVipFit fit = new PlsVip(new PlsVipOptions { Weights = weights, Components = 3 }).Fit(x, labels, 4);
        for (int a = 0; a < 3; a++)
        {
            double[] w = Enumerable.Range(0, 30).Select(j => fit.XWeights[j, a]).ToArray();
            int jStar = Array.IndexOf(w, w.MaxBy(Math.Abs));
            Assert.True(w[jStar] > 0, $"component {a}: largest |w| entry is {w[jStar]}");
            Assert.Equal(1.0, Math.Sqrt(w.Sum(e => e * e)), 12);
        }
    }

    [Fact]
    public void ScoresAreOrthogonalAndLoadingsReproduceTheDeflation()
    {
        (FeatureMatrix x, int[] labels) = ImportanceData.Classes(150, 12, 3, 4, 1.0, seed: 8);
        PlsVipFit fit = new PlsVip(new PlsVipOptions { Weights = PlsWeights.Exact, Components = 3 }).Fit(x, labels, 3);
        double t01 = 0, t00 = 0;
        for (int s = 0; s < 150; s++) { t01 += fit.XScores[s, 0] * fit.XScores[s, 1]; t00 += fit.XScores[s, 0] * fit.XScores[s, 0]; }
        Assert.True(Math.Abs(t01) < 1e-9 * t00, $"t0·t1 = {t01}");
        // SS_a = (q_a'q_a)(t_a't_a)
        for (int a = 0; a < 3; a++)
        {
            double tt = 0, qq = 0;
            for (int s = 0; s < 150; s++) tt += fit.XScores[s, a] * fit.XScores[s, a];
            for (int c = 0; c < 3; c++) qq += fit.YLoadings[c, a] * fit.YLoadings[c, a];
            Assert.Equal(tt * qq, fit.SumOfSquares[a], 9);
        }
    }

    [Fact]
    public void ExactAndTightSklearnIterationAgree()
    {
        (FeatureMatrix x, int[] labels) = ImportanceData.Classes(250, 20, 6, 5, 1.2, seed: 21);
        double[] exact = new PlsVip(new PlsVipOptions { Weights = PlsWeights.Exact }).Score(x, labels, 6);
        double[] tight = new PlsVip(new PlsVipOptions { Tolerance = 1e-28, MaxIterations = 100_000 }).Score(x, labels, 6);
        for (int j = 0; j < 20; j++) Assert.Equal(exact[j], tight[j], 6);
    }

    [Fact]
    public void AConstantFeatureGetsZeroVipAndTheRestStillSumToP()
    {
        (FeatureMatrix x0, int[] labels) = ImportanceData.Classes(100, 6, 3, 3, 1.0, seed: 2);
        var data = x0.Values.ToArray();
        for (int s = 0; s < 100; s++) data[s * 6 + 4] = 3.25f;
        FeatureMatrix x = FeatureMatrix.Wrap(data, 100, 6);
        PlsVipFit fit = new PlsVip().Fit(x, labels, 3);
        Assert.Equal(0.0, fit.Vip[4]);
        Assert.Equal(3.25, fit.XMean[4]);
        Assert.Equal(1.0, fit.XStd[4]);
        Assert.Equal(6.0, fit.Vip.Sum(v => v * v), 9);
    }

    [Fact]
    public void AnAbsentClassGetsUnitStdAndZeroLoadings()
    {
        (FeatureMatrix x, int[] labels) = ImportanceData.Classes(120, 8, 3, 3, 1.0, seed: 4);
        PlsVipFit fit = new PlsVip().Fit(x, labels, 5); // classes 3 and 4 never occur
        Assert.Equal([0.0, 0.0], [fit.YMean[3], fit.YMean[4]]);
        Assert.Equal([1.0, 1.0], [fit.YStd[3], fit.YStd[4]]);
        Assert.Equal(0.0, fit.YLoadings[4, 0]);
        Assert.Equal(8.0, fit.Vip.Sum(v => v * v), 9);
    }

    [Fact]
    public void TheSameInputGivesBitIdenticalScores()
    {
        (FeatureMatrix x, int[] labels) = ImportanceData.Classes(200, 16, 4, 4, 1.0, seed: 9);
        Assert.Equal(new PlsVip().Score(x, labels, 4), new PlsVip().Score(x, labels, 4));
    }

    /// <summary>Speed sanity, not a timed assertion (the time is logged): a stage-sized fit runs inside the suite.</summary>
    [Fact]
    public void TenThousandByTwoHundredFiftySixFitsInsideTheSuite()
    {
        (FeatureMatrix x, int[] labels) = ImportanceData.Classes(10_000, 256, 10, 32, 0.5, seed: 1);
        new PlsVip().Fit(ImportanceData.Columns(50, s => s, s => s % 3), Enumerable.Range(0, 50).Select(s => s % 2).ToArray(), 2); // warm-up
        foreach (PlsWeights weights in new[] { PlsWeights.SklearnDefault, PlsWeights.Exact })
        {
            var watch = Stopwatch.StartNew();
            PlsVipFit fit = new PlsVip(new PlsVipOptions { Weights = weights }).Fit(x, labels, 10);
            watch.Stop();
            output.WriteLine($"{weights}: {watch.Elapsed.TotalMilliseconds:F0} ms, iterations [{string.Join(", ", fit.Iterations)}], VIP mean {fit.VipMean:F4}");
            Assert.Equal(256.0, fit.Vip.Sum(v => v * v), 6);
        }
    }

    [Fact]
    public void BadInputIsRejectedNamingTheInput()
    {
        var pls = new PlsVip();
        FeatureMatrix one = ImportanceData.Columns(1, s => 1.0);
        Assert.Contains("at least 2 samples", Assert.Throws<ArgumentException>(() => pls.Score(one, [0], 2)).Message);

        FeatureMatrix x = ImportanceData.Columns(4, s => s, s => s * s);
        Assert.Contains("labels[2] = 7 is out of range [0, 3)", Assert.Throws<ArgumentException>(() => pls.Score(x, [0, 1, 7, 2], 3)).Message);
        Assert.Contains("labels has 3 entries", Assert.Throws<ArgumentException>(() => pls.Score(x, [0, 1, 2], 3)).Message);
        Assert.Contains("single class", Assert.Throws<ArgumentException>(() => pls.Score(x, [1, 1, 1, 1], 3)).Message);

        FeatureMatrix nan = ImportanceData.Columns(4, s => s == 2 ? double.NaN : s, s => s);
        Assert.Contains("x[2, 0] is NaN", Assert.Throws<ArgumentException>(() => pls.Score(nan, [0, 1, 0, 1], 2)).Message);

        FeatureMatrix constant = ImportanceData.Columns(4, s => 1.0, s => 2.0);
        Assert.Contains("constant", Assert.Throws<ArgumentException>(() => pls.Score(constant, [0, 1, 0, 1], 2)).Message);

        Assert.Contains("3 components need at least 3 features",
            Assert.Throws<ArgumentException>(() => new PlsVip(new PlsVipOptions { Components = 3 }).Score(x, [0, 1, 0, 1], 2)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new PlsVip(new PlsVipOptions { Components = 0 }));
    }
}
