using SharpNas.Search.Pruning;
using SharpNas.Search.Trials;

namespace SharpNas.Tests.Search.Pruning;

public sealed class AshaPrunerTests
{
    [Theory]
    [InlineData(1, 3, null, 9, new[] { 1, 3 })]          // 9 is the last epoch: no rung there
    [InlineData(1, 3, null, 10, new[] { 1, 3, 9 })]
    [InlineData(1, 2, null, 4, new[] { 1, 2 })]
    [InlineData(2, 2, null, 20, new[] { 2, 4, 8, 16 })]
    [InlineData(2, 2, 2, 20, new[] { 2, 4 })]
    [InlineData(1, 3, null, 1, new int[0])]
    public void RungsSitAtMinEpochsTimesEtaToTheK_BelowTheLastEpoch(int minEpochs, int eta, int? maxRungs, int total, int[] expected)
    {
        var pruner = new AshaPruner(new AshaOptions { MinEpochs = minEpochs, ReductionFactor = eta, MaxRungs = maxRungs });
        Assert.Equal(expected, pruner.RungEpochs(total));
    }

    [Fact]
    public void ScriptedCurves_PromoteTheHandComputedTrialsAtEachRung()
    {
        // η = 3, r = 1, 9 epochs → rungs at epochs 1 and 3. Only the accuracies there matter (x = never read).
        // Rung 0 (epoch 1), the best max(1, ⌊n/3⌋) of the n recorded values go on:
        //  A .30: n=1, best 1 → on.   B .20: {.30 .20} best 1 (.30) → stop at 1.   C .35: n=3 best 1 (.35) → on.
        //  D .32: n=4 best 1 (.35) → stop at 1.   E .31: n=5 best 1 → stop at 1.
        //  F .33: n=6 best 2 (.35 .33) → on.   G .34: n=7 best 2 (.35 .34) → on.
        // Rung 1 (epoch 3), values of the trials that reached epoch 3:
        //  A .50: n=1 → on, completes.   C .45: {.50 .45} best 1 (.50) → stop at 3.
        //  F .55: {.50 .45 .55} best 1 (.55) → on, completes.   G .52: {.50 .45 .55 .52} best 1 (.55) → stop at 3.
        const double x = 0.99;
        var pruner = new AshaPruner(new AshaOptions { MinEpochs = 1, ReductionFactor = 3 });
        int[] reached = ScriptedSearch.EpochsReached(pruner,
            [0.30, x, 0.50, x, x, x, x, x, x],
            [0.20, x, x, x, x, x, x, x, x],
            [0.35, x, 0.45, x, x, x, x, x, x],
            [0.32, x, 0.60, x, x, x, x, x, x],
            [0.31, x, x, x, x, x, x, x, x],
            [0.33, x, 0.55, x, x, x, x, x, x],
            [0.34, x, 0.52, x, x, x, x, x, x]);
        Assert.Equal([9, 1, 3, 1, 1, 9, 3], reached);
    }

    [Fact]
    public void OnlyRungEpochsAreJudged()
    {
        var pruner = new AshaPruner(new AshaOptions { MinEpochs = 2, ReductionFactor = 2 });
        LearningCurve[] finished = [new("a", [0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9], TrialStatus.Completed)];
        Assert.False(pruner.Decide([0.1], 8, finished).Prune);           // epoch 1: below the first rung
        Assert.True(pruner.Decide([0.1, 0.1], 8, finished).Prune);       // epoch 2: rung 0, best 1 of 2
        Assert.False(pruner.Decide([0.1, 0.1, 0.1], 8, finished).Prune); // epoch 3: between rungs
        Assert.True(pruner.Decide([0.1, 0.1, 0.1, 0.1], 8, finished).Prune);
        Assert.False(pruner.Decide([.1, .1, .1, .1, .1, .1, .1, .1], 8, finished).Prune);   // the last epoch
    }

    [Fact]
    public void PrunedTrialsCountAtTheRungsTheyReached()
    {
        // Rung 0 (epoch 1) holds a, b, c and the new trial: n = 4, η = 2 → the best 2 go on. At rung 1 (epoch 2) only a
        // (completed) and c (stopped at epoch 2) recorded a value: n = 3 → the best 1 goes on.
        var pruner = new AshaPruner(new AshaOptions { MinEpochs = 1, ReductionFactor = 2 });
        LearningCurve[] finished = [new("a", [0.5, 0.6, 0.7, 0.8, 0.9], TrialStatus.Completed), new("b", [0.2], TrialStatus.Pruned), new("c", [0.4, 0.7], TrialStatus.Pruned)];
        Assert.False(pruner.Decide([0.45], 5, finished).Prune);   // {.5 .45 .4 .2}: threshold .45
        Assert.True(pruner.Decide([0.39], 5, finished).Prune);    // {.5 .4 .39 .2}: threshold .4
        Assert.True(pruner.Decide([0.45, 0.65], 5, finished).Prune);   // {.7 .65 .6}: threshold .7
        Assert.False(pruner.Decide([0.45, 0.70], 5, finished).Prune);  // a tie with the threshold goes on
    }

    [Theory]
    [InlineData(0, 3, null, "--asha-min-epochs")]
    [InlineData(1, 1, null, "--asha-eta")]
    [InlineData(1, 3, 0, "--asha-rungs")]
    public void BadSettingsAreRejectedNamingTheOption(int minEpochs, int eta, int? rungs, string option)
    {
        var e = Assert.Throws<ArgumentException>(() => new AshaPruner(new AshaOptions { MinEpochs = minEpochs, ReductionFactor = eta, MaxRungs = rungs }));
        Assert.StartsWith(option, e.Message);
    }
}
