using SharpNas.Search.Importance;
using SharpNas.Tests.Engine;
using Xunit.Abstractions;

namespace SharpNas.Tests.Search.Importance;

/// <summary>PLS-VIP against the scikit-learn references in shared/fixtures/torch-reference (pls_vip_*).</summary>
public sealed class PlsVipFixtureTests(ITestOutputHelper output)
{
    private static FixtureCase Case(string name)
    {
        string root = SharedFolder.Require("SHARPNAS_FIXTURES", Path.Combine("fixtures", "torch-reference"));
        return new FixtureCase(Path.Combine(root, name));
    }

    private static (PlsVipFit Fit, FixtureCase Case) FitCase(string name, PlsVipOptions options)
    {
        FixtureCase fc = Case(name);
        FeatureMatrix x = FeatureMatrix.FromTensor(fc.Load("X"));
        int[] labels = fc.LoadInt64("labels").Select(l => (int)l).ToArray();
        PlsVipFit fit = new PlsVip(options).Fit(x, labels, fc.Int("n_classes"));
        return (fit, fc);
    }

    private static double[] Flat(double[,] m) => m.Cast<double>().ToArray();

    private static Dictionary<string, double[]> Computed(PlsVipFit fit) => new()
    {
        ["x_mean"] = fit.XMean, ["x_std"] = fit.XStd, ["y_mean"] = fit.YMean, ["y_std"] = fit.YStd,
        ["x_weights"] = Flat(fit.XWeights), ["x_scores"] = Flat(fit.XScores),
        ["y_loadings"] = Flat(fit.YLoadings), ["x_loadings"] = Flat(fit.XLoadings),
        ["ss"] = fit.SumOfSquares, ["vip"] = fit.Vip, ["vip_mean"] = [fit.VipMean],
    };

    public static TheoryData<string, PlsWeights, int> Variants() => new()
    {
        { "pls_vip_sklearn_default", PlsWeights.SklearnDefault, 1024 }, // cross-product (Gram) power iteration
        { "pls_vip_sklearn_default", PlsWeights.SklearnDefault, 0 },    // power iteration on the n×p data
        { "pls_vip_exact", PlsWeights.Exact, 1024 },
    };

    [SkippableTheory]
    [MemberData(nameof(Variants))]
    public void EverySavedTensorMatchesTheReferenceWithinTolerance(string caseName, PlsWeights weights, int maxGram)
    {
        (PlsVipFit fit, FixtureCase fc) = FitCase(caseName, new PlsVipOptions { Weights = weights, MaxGramFeatures = maxGram });
        Dictionary<string, double[]> computed = Computed(fit);
        int compared = 0;
        foreach (FixtureCase.Entry e in fc.Expected())
        {
            Assert.True(computed.ContainsKey(e.Name), $"{caseName}: tensor {e.Name} is not computed");
            double[] actual = computed[e.Name];
            float[] expected = fc.Load(e.Name).ToArray();
            Assert.Equal(expected.Length, actual.Length);
            double atol = e.Atol ?? fc.Atol, rtol = e.Rtol ?? fc.Rtol;
            double worstErr = 0, worstUse = 0;
            for (int i = 0; i < expected.Length; i++)
            {
                double err = Math.Abs(actual[i] - expected[i]);
                worstErr = Math.Max(worstErr, err);
                worstUse = Math.Max(worstUse, err / (atol + rtol * Math.Abs(expected[i])));
                Assert.True(err <= atol + rtol * Math.Abs(expected[i]),
                    $"{caseName} {e.Name}[{i}]: expected {expected[i]}, got {actual[i]} (|err| {err:E2} > {atol} + {rtol}·|expected|)");
            }
            output.WriteLine($"{caseName} {e.Name}: max |err| {worstErr:E2}, tolerance use {worstUse:F4}");
            compared++;
        }
        Assert.Equal(11, compared);
    }

    [SkippableFact]
    public void SklearnDefaultStopsAfterTheSameIterationCountsAsSklearn()
    {
        (PlsVipFit fit, FixtureCase fc) = FitCase("pls_vip_sklearn_default", new PlsVipOptions());
        int[] expected = fc.Params.GetProperty("n_iter").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.Equal(expected, fit.Iterations);
        (PlsVipFit direct, _) = FitCase("pls_vip_sklearn_default", new PlsVipOptions { MaxGramFeatures = 0 });
        Assert.Equal(expected, direct.Iterations);
    }

    [SkippableFact]
    public void SklearnDefaultAndExactDifferByTheRecordedAmount()
    {
        (PlsVipFit sk, _) = FitCase("pls_vip_sklearn_default", new PlsVipOptions());
        (PlsVipFit exact, _) = FitCase("pls_vip_exact", new PlsVipOptions { Weights = PlsWeights.Exact });
        double maxDiff = sk.Vip.Zip(exact.Vip, (a, b) => Math.Abs(a - b)).Max();
        double recorded = 0.01682069802238395; // case.json formula.max_abs_vip_difference_default_vs_exact
        Assert.InRange(maxDiff, recorded - 1e-4, recorded + 1e-4);
    }

    [SkippableFact]
    public void InformativeFeaturesHaveTheLargestVip()
    {
        (PlsVipFit fit, FixtureCase fc) = FitCase("pls_vip_exact", new PlsVipOptions { Weights = PlsWeights.Exact });
        int[] informative = fc.Params.GetProperty("informative_features").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        double minInformative = informative.Min(j => fit.Vip[j]);
        double maxOther = Enumerable.Range(0, fit.Vip.Length).Except(informative).Max(j => fit.Vip[j]);
        Assert.True(minInformative > maxOther, $"min informative VIP {minInformative} <= max other {maxOther}");
    }
}
