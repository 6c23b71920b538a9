using SharpNas.Search.Pruning;
using SharpNas.Search.Trials;

namespace SharpNas.Tests.Search.Pruning;

public sealed class MedianPrunerTests
{
    private static LearningCurve Done(string key, params double[] curve) => new(key, curve, TrialStatus.Completed);

    [Fact]
    public void ScriptedCurves_StopAtTheHandComputedEpochs()
    {
        // Warm-up 1 epoch, 2 completed trials needed; 4 epochs each. By hand:
        //  A, B: fewer than 2 completed trials before them → trained to the end.
        //  C: epoch 2: median(A .50, B .40) = .45, C .45 is not below → goes on; epoch 3: median(.60, .55) = .575 > .50 → stops at 3.
        //  D: epoch 2: median of the completed A, B (C was pruned, it does not count) = .45 > .42 → stops at 2.
        //  E: epoch 2: .60 ≥ .45; epoch 3: .52 < .575 → stops at 3.
        //  F: epoch 2: .46 ≥ .45; epoch 3: .58 ≥ .575 → completes.
        //  G: epoch 2: median(A .50, B .40, F .46) = .46 > .44 → stops at 2, although its epoch 1 was the best of all.
        var pruner = new MedianPruner(new MedianPrunerOptions { WarmupEpochs = 1, MinCompletedTrials = 2 });
        int[] reached = ScriptedSearch.EpochsReached(pruner,
            [0.30, 0.50, 0.60, 0.70],
            [0.20, 0.40, 0.55, 0.65],
            [0.25, 0.45, 0.50, 0.60],
            [0.40, 0.42, 0.70, 0.80],
            [0.10, 0.60, 0.52, 0.90],
            [0.50, 0.46, 0.58, 0.60],
            [0.90, 0.44, 0.70, 0.95]);
        Assert.Equal([4, 4, 3, 2, 3, 4, 2], reached);
    }

    [Fact]
    public void NoTrialIsStoppedDuringTheWarmUp()
    {
        var pruner = new MedianPruner(new MedianPrunerOptions { WarmupEpochs = 2, MinCompletedTrials = 1 });
        LearningCurve[] finished = [Done("a", 0.9, 0.9, 0.9, 0.9)];
        Assert.False(pruner.Decide([0.1], 4, finished).Prune);
        Assert.False(pruner.Decide([0.1, 0.1], 4, finished).Prune);
        Assert.True(pruner.Decide([0.1, 0.1, 0.1], 4, finished).Prune);
    }

    [Fact]
    public void NoTrialIsStoppedBeforeEnoughCompletedTrialsReachedTheEpoch()
    {
        var pruner = new MedianPruner(new MedianPrunerOptions { WarmupEpochs = 0, MinCompletedTrials = 2 });
        // Two completed trials, but only one reached epoch 3 (a curve of another length).
        LearningCurve[] finished = [Done("a", 0.9, 0.9, 0.9), Done("b", 0.9, 0.9)];
        Assert.True(pruner.Decide([0.1, 0.1], 4, finished).Prune);
        PruneDecision d = pruner.Decide([0.1, 0.1, 0.1], 4, finished);
        Assert.False(d.Prune);
        Assert.Contains("1 completed trials reached epoch 3", d.Reason);
    }

    [Fact]
    public void PrunedTrialsDoNotCountTowardsTheMedian()
    {
        var pruner = new MedianPruner(new MedianPrunerOptions { WarmupEpochs = 0, MinCompletedTrials = 1 });
        // With the pruned trials' .10 the median at epoch 1 would be .10 and .20 would go on; without, it is .30.
        LearningCurve[] finished = [Done("a", 0.3, 0.5), new("p", [0.1], TrialStatus.Pruned), new("q", [0.1], TrialStatus.Pruned)];
        PruneDecision d = pruner.Decide([0.2], 2, finished);
        Assert.True(d.Prune);
        Assert.Contains("median of 1 completed trials 30.00 %", d.Reason);
    }

    [Fact]
    public void ATrialIsNeverStoppedAfterItsLastEpoch()
    {
        var pruner = new MedianPruner(new MedianPrunerOptions { WarmupEpochs = 0, MinCompletedTrials = 1 });
        LearningCurve[] finished = [Done("a", 0.9, 0.9)];
        Assert.True(pruner.Decide([0.1], 2, finished).Prune);
        Assert.False(pruner.Decide([0.1, 0.1], 2, finished).Prune);
    }

    [Fact]
    public void TheMedianOfAnEvenCountIsTheMeanOfTheMiddleTwo_AndEqualityGoesOn()
    {
        Assert.Equal(0.35, MedianPruner.Median([0.1, 0.3, 0.4, 0.9]), 12);
        Assert.Equal(0.4, MedianPruner.Median([0.1, 0.4, 0.9]), 12);
        var pruner = new MedianPruner(new MedianPrunerOptions { WarmupEpochs = 0, MinCompletedTrials = 1 });
        LearningCurve[] finished = [Done("a", 0.25, 1), Done("b", 0.75, 1)];
        Assert.False(pruner.Decide([0.5], 3, finished).Prune);
        Assert.True(pruner.Decide([0.49], 3, finished).Prune);
    }

    [Theory]
    [InlineData(-1, 3, "--prune-warmup")]
    [InlineData(1, 0, "--prune-min-trials")]
    public void BadSettingsAreRejectedNamingTheOption(int warmup, int minTrials, string option)
    {
        var e = Assert.Throws<ArgumentException>(() => new MedianPruner(new MedianPrunerOptions { WarmupEpochs = warmup, MinCompletedTrials = minTrials }));
        Assert.StartsWith(option, e.Message);
    }
}
