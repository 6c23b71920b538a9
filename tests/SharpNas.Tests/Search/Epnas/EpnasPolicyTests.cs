using SharpNas.Engine;
using SharpNas.Search.Spaces.Epnas;
using SharpNas.Search.Strategies.Epnas;
using SharpNas.Training;
using static SharpNas.Search.Strategies.Epnas.EpnasDecisions;
using static SharpNas.Tests.Search.Epnas.EpnasGenotypeTests;

namespace SharpNas.Tests.Search.Epnas;

/// <summary>The EPNAS policy: log-probabilities and entropy by hand, and REINFORCE on a toy reward.</summary>
public sealed class EpnasPolicyTests
{
    /// <summary>A policy whose weights are all zero, so every LSTM state is 0 and each head's logits are its bias.</summary>
    private static EpnasPolicy<EpnasLayerGenotype> ZeroPolicy()
    {
        var space = new EpnasLayerActions(Small, new EpnasActionOptions { ScaleGroups = 1, MaxElements = 4, Prior = CheckTablePrior.Interior });
        var policy = new EpnasPolicy<EpnasLayerGenotype>(space, new SeededRandom(3),
            new EpnasPolicyOptions { ScaleLstmSize = 8, InsertLstmSize = 8, EmbeddingSize = 4, NetworkLstmSize = 4 });
        foreach (Tensor p in policy.Parameters()) p.Span.Clear();
        policy.NamedParameters().Single(p => p.Name == "heads.channel_scale.bias").Tensor.Span[1] = MathF.Log(2);
        return policy;
    }

    [Fact]
    public void Weights_StartInTheInitRange()
    {
        var policy = new EpnasPolicy<EpnasLayerGenotype>(new EpnasLayerActions(Small), new SeededRandom(1));
        float[] all = policy.Parameters().SelectMany(p => p.ToArray()).ToArray();
        Assert.All(all, w => Assert.InRange(w, -0.1f, 0.1f));
        Assert.True(all.Max() > 0.09f && all.Min() < -0.09f);
    }

    [Fact]
    public void KeepAction_LogProbAndEntropy_MatchTheHandComputation()
    {
        // channel head: logits [0, ln 2, 0], all valid → p = [¼, ½, ¼]; width: uniform over 3; action: keep / insert
        // (remove is masked: one layer) → ½ each.
        EpnasTrajectory<EpnasLayerGenotype> t = ZeroPolicy().Evaluate(new EpnasLayerGenotype([Conv(3, 32, 0)]), new EpnasAction([1], [0], [Keep]));
        Assert.Equal(Math.Log(0.5) + Math.Log(1.0 / 3) + Math.Log(0.5), t.LogProb.Item(), 5);
        Assert.Equal(1.5 * Math.Log(2) + Math.Log(3) + Math.Log(2), t.Entropy.Item(), 5);
        Assert.Equal(32, t.Child.Layers[0].Channels);   // width choice 0 = step −1 on filter width 3 → 1
        Assert.Equal(1, t.Child.Layers[0].FilterWidth);
    }

    [Fact]
    public void InsertAction_LogProbAndEntropy_IncludeTheMasksAndTheCheckTablePrior()
    {
        // insert maxpool (5 valid types), width 3 (2 valid), position 1 (positions 0, 1 valid; interior prior makes
        // appending half as likely: p = [⅔, ⅓]), src2 none (none, node 0, node 1 valid).
        var action = new EpnasAction([1], [1], [Insert, (int)EpnasLayerType.MaxPool, 1, 1, 0]);
        EpnasTrajectory<EpnasLayerGenotype> t = ZeroPolicy().Evaluate(new EpnasLayerGenotype([Conv(3, 32, 0)]), action);
        double expected = Math.Log(0.5) + Math.Log(1.0 / 3) + Math.Log(0.5) + Math.Log(1.0 / 5) + Math.Log(0.5) + Math.Log(1.0 / 3) + Math.Log(1.0 / 3);
        Assert.Equal(expected, t.LogProb.Item(), 5);
        double position = -(2.0 / 3 * Math.Log(2.0 / 3) + 1.0 / 3 * Math.Log(1.0 / 3));
        double entropy = 1.5 * Math.Log(2) + Math.Log(3) + Math.Log(2) + Math.Log(5) + Math.Log(2) + position + Math.Log(3);
        Assert.Equal(entropy, t.Entropy.Item(), 5);
        Assert.Equal([Conv(3, 32, 0), Pool(3, 1) with { Channels = 32, FilterWidth = 3 }], t.Child.Layers);
    }

    [Fact]
    public void SampledActions_AreValid_AndTheirLogProbIsReproducedByEvaluate()
    {
        var policy = new EpnasPolicy<EpnasLayerGenotype>(new EpnasLayerActions(Small, new EpnasActionOptions { MaxElements = 6 }), new SeededRandom(5),
            new EpnasPolicyOptions { ScaleLstmSize = 16, InsertLstmSize = 16 });
        var rng = new SeededRandom(9);
        EpnasLayerGenotype g = new([Conv(3, 32, 0), Pool(2, 1)]);
        for (int i = 0; i < 10; i++)
        {
            EpnasTrajectory<EpnasLayerGenotype> s = policy.Sample(g, rng);
            Assert.True(s.Child.IsValidFor(Small));
            Assert.Equal(s.LogProb.Item(), policy.Evaluate(g, s.Action).LogProb.Item(), 5);
            g = s.Child;
        }
    }

    [Fact]
    public void Reinforce_RaisesTheMeanRewardOnAToyReward()
    {
        // Reward: the child's layer count / 3 from a two-layer parent (keep ⅔, insert 1, remove ⅓).
        var space = new EpnasLayerActions(Small, new EpnasActionOptions { MaxElements = 4, ScaleGroups = 1 });
        var policy = new EpnasPolicy<EpnasLayerGenotype>(space, new SeededRandom(2),
            new EpnasPolicyOptions { ScaleLstmSize = 16, InsertLstmSize = 16, LearningRate = 0.02, BaselineDecay = 0.8 });
        var trainer = new EpnasReinforce<EpnasLayerGenotype>(policy);
        var rng = new SeededRandom(4);
        var parent = new EpnasLayerGenotype([Conv(3, 32, 0), Conv(3, 32, 1)]);
        var means = new List<double>();
        for (int update = 0; update < 30; update++)
        {
            var batch = Enumerable.Range(0, 8).Select(_ => policy.Sample(parent, rng)).Select(t => (t, t.Child.Layers.Count / 3.0)).ToList();
            means.Add(batch.Average(b => b.Item2));
            trainer.Update(batch);
        }
        double first = means.Take(5).Average(), last = means.TakeLast(5).Average();
        Assert.True(last > first + 0.15, $"mean reward {first:F3} → {last:F3}");
        Assert.NotNull(trainer.Baseline);
    }
}
