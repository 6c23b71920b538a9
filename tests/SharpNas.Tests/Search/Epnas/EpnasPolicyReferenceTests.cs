using SharpNas.Engine;
using SharpNas.Search.Spaces.Epnas;
using SharpNas.Search.Strategies.Epnas;
using SharpNas.Training;
using static SharpNas.Search.Strategies.Epnas.EpnasDecisions;
using static SharpNas.Tests.Search.Epnas.EpnasGenotypeTests;

namespace SharpNas.Tests.Search.Epnas;

/// <summary>
/// The policy's log-probability and entropy with random weights, against a plain-loop re-computation in doubles that
/// follows the architecture as documented (token sums, network LSTM, scale LSTM on [e ; group mean], insert LSTM fed
/// e then the previous decision's embedding, masked softmax heads).
/// </summary>
public sealed class EpnasPolicyReferenceTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LogProbAndEntropy_MatchAPlainReComputation(bool insert)
    {
        var space = new EpnasLayerActions(Small, new EpnasActionOptions { ScaleGroups = 2, MaxElements = 4 });
        var policy = new EpnasPolicy<EpnasLayerGenotype>(space, new SeededRandom(11),
            new EpnasPolicyOptions { EmbeddingSize = 4, NetworkLstmSize = 4, ScaleLstmSize = 5, InsertLstmSize = 6, InitRange = 0.5 });
        var g = new EpnasLayerGenotype([Conv(3, 32, 0), Conv(5, 64, 1, src2: 0)]);
        // keep; or insert a conv2d (filter width 1, 96 channels, selu) at position 2 with a skip from node 1.
        var action = insert ? new EpnasAction([2, 1], [1, 0], [Insert, 0, 0, 3, 3, 2, 2]) : new EpnasAction([0, 1], [2, 1], [Keep]);
        EpnasTrajectory<EpnasLayerGenotype> t = policy.Evaluate(g, action);

        var w = policy.NamedParameters().ToDictionary(p => p.Name, p => p.Tensor.ToArray().Select(v => (double)v).ToArray());
        double[] Row(string table, int row, int size) => w[table].Skip(row * size).Take(size).ToArray();
        (double[] H, double[] C) Cell(string prefix, string suffix, double[] x, double[] h, double[] c)
        {
            int n = h.Length;
            double[] wi = w[$"{prefix}.weight_ih{suffix}"], wh = w[$"{prefix}.weight_hh{suffix}"], bi = w[$"{prefix}.bias_ih{suffix}"], bh = w[$"{prefix}.bias_hh{suffix}"];
            var gates = new double[4 * n];
            for (int r = 0; r < 4 * n; r++)
            {
                double s = bi[r] + bh[r];
                for (int j = 0; j < x.Length; j++) s += wi[r * x.Length + j] * x[j];
                for (int j = 0; j < n; j++) s += wh[r * n + j] * h[j];
                gates[r] = s;
            }
            static double Sig(double v) => 1 / (1 + Math.Exp(-v));
            var c2 = new double[n];
            var h2 = new double[n];
            for (int j = 0; j < n; j++)
            {
                c2[j] = Sig(gates[n + j]) * c[j] + Sig(gates[j]) * Math.Tanh(gates[2 * n + j]);
                h2[j] = Sig(gates[3 * n + j]) * Math.Tanh(c2[j]);
            }
            return (h2, c2);
        }
        double logp = 0, entropy = 0;
        void Head(string name, double[] h, bool[] mask, int choice)
        {
            double[] hw = w[$"heads.{name}.weight"], hb = w[$"heads.{name}.bias"];
            int n = mask.Length;
            var z = Enumerable.Range(0, n).Select(i => hb[i] + Enumerable.Range(0, h.Length).Sum(j => hw[i * h.Length + j] * h[j])).ToArray();
            double max = Enumerable.Range(0, n).Where(i => mask[i]).Max(i => z[i]);
            double sum = Enumerable.Range(0, n).Where(i => mask[i]).Sum(i => Math.Exp(z[i] - max));
            double Lp(int i) => z[i] - max - Math.Log(sum);
            logp += Lp(choice);
            entropy -= Enumerable.Range(0, n).Where(i => mask[i]).Sum(i => Math.Exp(Lp(i)) * Lp(i));
        }

        // Network embedding.
        int[][] tokens = space.Tokens(g);
        var h = new double[4];
        var c = new double[4];
        var outputs = new List<double[]>();
        foreach (int[] layer in tokens)
        {
            double[] x = new double[4];
            foreach (int tok in layer) x = x.Zip(Row("layer_embedding.weight", tok, 4), (a, b) => a + b).ToArray();
            (h, c) = Cell("network_lstm", "_l0", x, h, c);
            outputs.Add(h);
        }
        double[] e = h;
        // Scale LSTM: groups {0}, {1}.
        (double[] H, double[] C) s = (new double[5], new double[5]);
        IReadOnlyList<int[]> groups = space.Groups(g);
        for (int gi = 0; gi < 2; gi++)
        {
            s = Cell("scale_lstm", "", [.. e, .. outputs[groups[gi][0]]], s.H, s.C);
            Head("channel_scale", s.H, space.ScaleMask(g, groups[gi], true), action.ChannelChoices[gi]);
            Head("width_scale", s.H, space.ScaleMask(g, groups[gi], false), action.WidthChoices[gi]);
        }
        EpnasLayerGenotype scaled = space.Scale(g, action.ChannelChoices, action.WidthChoices);
        // Insert LSTM.
        int[] offsets = new int[space.Kinds.Count + 1];
        for (int k = 0; k < space.Kinds.Count; k++) offsets[k + 1] = offsets[k] + space.Kinds[k].Choices;
        (double[] H, double[] C) ins = (new double[6], new double[6]);
        double[] input = e;
        var soFar = new List<int>();
        foreach (int d in action.InsertDecisions)
        {
            EpnasDecisionRequest r = space.NextInsert(scaled, soFar)!;
            ins = Cell("insert_lstm", "", input, ins.H, ins.C);
            Head(space.Kinds[r.Kind].Name.Replace('-', '_'), ins.H, r.Mask, d);
            input = Row("decision_embedding.weight", offsets[r.Kind] + d, 4);
            soFar.Add(d);
        }

        Assert.Equal(logp, t.LogProb.Item(), 4);
        Assert.Equal(entropy, t.Entropy.Item(), 4);
        Assert.Equal(insert ? 3 : 2, t.Child.Layers.Count);
    }

    [Fact]
    public void ThePolicy_AlsoDrivesTheModulePattern()
    {
        var space = new EpnasModuleActions();
        var policy = new EpnasPolicy<EpnasModuleGenotype>(space, new SeededRandom(2), new EpnasPolicyOptions { ScaleLstmSize = 16, InsertLstmSize = 16 });
        var rng = new SeededRandom(3);
        EpnasModuleGenotype g = HandModule();
        for (int i = 0; i < 8; i++)
        {
            EpnasTrajectory<EpnasModuleGenotype> s = policy.Sample(g, rng);
            Assert.True(s.Child.IsValidFor(Small));
            Assert.Equal(s.LogProb.Item(), policy.Evaluate(g, s.Action).LogProb.Item(), 5);
            g = s.Child;
        }
    }
}
