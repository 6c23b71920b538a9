using SharpNas.Engine;
using SharpNas.Search.Importance;

namespace SharpNas.Tests.Search.Importance;

public sealed class StageImportanceTests
{
    [Theory]
    [InlineData(ImportanceCriterion.PlsVip, typeof(PlsVip))]
    [InlineData(ImportanceCriterion.InfFs, typeof(InfFs))]
    [InlineData(ImportanceCriterion.IlFs, typeof(IlFs))]
    public void TheFactoryBuildsEachCriterion(ImportanceCriterion criterion, Type type)
    {
        IFeatureImportance made = FeatureImportance.Create(criterion);
        Assert.IsType(type, made);
        Assert.Equal(criterion, made.Criterion);
    }

    [Fact]
    public void TheFactoryPassesTheOptions()
    {
        var options = new ImportanceOptions { Pls = new PlsVipOptions { Weights = PlsWeights.Exact, Components = 3 } };
        var pls = Assert.IsType<PlsVip>(FeatureImportance.Create(ImportanceCriterion.PlsVip, options));
        Assert.Equal(PlsWeights.Exact, pls.Options.Weights);
        Assert.Equal(3, pls.Options.Components);
    }

    [Theory]
    [InlineData(ImportanceCriterion.PlsVip)]
    [InlineData(ImportanceCriterion.InfFs)]
    [InlineData(ImportanceCriterion.IlFs)]
    public void EachStageScoreIsTheMeanFeatureImportance(ImportanceCriterion criterion)
    {
        var rng = new SeededRandom(31);
        int n = 64;
        var labels = Enumerable.Range(0, n).Select(_ => rng.NextInt(4)).ToArray();
        // three stages of pooled features from random stage outputs of different shapes
        Tensor[] outputs = [RandomStage(rng, n, 4, 8), RandomStage(rng, n, 8, 4), RandomStage(rng, n, 16, 2)];
        FeatureMatrix[] stages = outputs.Select(o => StageFeatures.Pool(o)).ToArray();
        Assert.Equal([64, 128, 64], stages.Select(s => s.Columns).ToArray());
        double[] scores = StageImportance.Compute(criterion, stages, labels, 4);
        IFeatureImportance direct = FeatureImportance.Create(criterion);
        for (int i = 0; i < 3; i++) Assert.Equal(direct.Score(stages[i], labels, 4).Average(), scores[i], 12);
        if (criterion == ImportanceCriterion.PlsVip) Assert.All(scores, s => Assert.InRange(s, 0.0, 1.0));
    }

    [Fact]
    public void MismatchedStagesAreRejectedNamingTheStage()
    {
        var importance = new StageImportance(ImportanceCriterion.PlsVip);
        FeatureMatrix ok = ImportanceData.Columns(4, s => s, s => s % 2);
        FeatureMatrix shorter = ImportanceData.Columns(3, s => s);
        Assert.Contains("stage 1 has 3 samples, labels has 4",
            Assert.Throws<ArgumentException>(() => importance.Score([ok, shorter], [0, 1, 0, 1], 2)).Message);
        Assert.Throws<ArgumentException>(() => importance.Score([], [0, 1], 2));
    }

    private static Tensor RandomStage(SeededRandom rng, int n, int channels, int side)
    {
        var data = new float[n * channels * side * side];
        for (int i = 0; i < data.Length; i++) data[i] = (float)rng.NextNormal();
        return Tensor.FromArray(data, n, channels, side, side);
    }
}
