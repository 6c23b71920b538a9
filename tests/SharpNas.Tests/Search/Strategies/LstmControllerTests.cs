using SharpNas.Engine;
using SharpNas.Engine.Functional;
using SharpNas.Search.Spaces;
using SharpNas.Search.Strategies.Reinforce;
using SharpNas.Tests.Engine;

namespace SharpNas.Tests.Search.Strategies;

public sealed class LstmControllerTests
{
    /// <summary>Two kinds, choice counts 3, 2, 4 (the last two share kind "b").</summary>
    private static readonly DiscreteSpace Mixed = new([new DiscreteDecision("x", 3, "a"), new DiscreteDecision("y", 2, "b"), new DiscreteDecision("z", 4, "b")]);

    private static LstmController Tiny(ControllerOptions? options = null, ulong seed = 7) =>
        new(Mixed, (options ?? new ControllerOptions()) with { HiddenSize = 3, EmbeddingSize = 2, InitRange = 0.6 }, new SeededRandom(seed));

    private static double[] Values(LstmController c, string name) =>
        c.NamedParameters().Single(p => p.Name == name).Tensor.ToArray().Select(v => (double)v).ToArray();

    /// <summary>The controller written out in double precision from its equations, independent of the engine.</summary>
    private static (double[][] LogProbs, double Entropy) ByHand(LstmController c, int[] sample, double? temperature, double? tanhConstant)
    {
        int h = c.Options.HiddenSize, e = c.Options.EmbeddingSize;
        double[] wIh = Values(c, "lstm_cell.weight_ih"), wHh = Values(c, "lstm_cell.weight_hh"), bIh = Values(c, "lstm_cell.bias_ih"), bHh = Values(c, "lstm_cell.bias_hh");
        double[] x = Values(c, "g_emb"), hs = new double[h], cs = new double[h];
        string[] kindTable = ["embeddings.0.weight", "embeddings.1.weight", "embeddings.1.weight"];
        var result = new double[sample.Length][];
        double entropy = 0;
        for (int t = 0; t < sample.Length; t++)
        {
            var gates = new double[4 * h];
            for (int r = 0; r < 4 * h; r++)
            {
                double s = bIh[r] + bHh[r];
                for (int j = 0; j < e; j++) s += wIh[r * e + j] * x[j];
                for (int j = 0; j < h; j++) s += wHh[r * h + j] * hs[j];
                gates[r] = s;
            }
            for (int j = 0; j < h; j++)
            {
                double i = Sigmoid(gates[j]), f = Sigmoid(gates[h + j]), g = Math.Tanh(gates[2 * h + j]), o = Sigmoid(gates[3 * h + j]);
                cs[j] = f * cs[j] + i * g;
                hs[j] = o * Math.Tanh(cs[j]);
            }
            double[] w = Values(c, $"heads.{t}.weight"), b = Values(c, $"heads.{t}.bias");
            int n = b.Length;
            var logits = new double[n];
            for (int k = 0; k < n; k++)
            {
                double s = b[k];
                for (int j = 0; j < h; j++) s += w[k * h + j] * hs[j];
                if (temperature is double temp) s /= temp;
                if (tanhConstant is double tc) s = tc * Math.Tanh(s);
                logits[k] = s;
            }
            double logZ = Math.Log(logits.Sum(Math.Exp));
            result[t] = logits.Select(l => l - logZ).ToArray();
            entropy -= result[t].Sum(lp => Math.Exp(lp) * lp);
            double[] table = Values(c, kindTable[t]);
            x = table.Skip(sample[t] * e).Take(e).ToArray();
        }
        return (result, entropy);
    }

    private static double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));

    [Theory]
    [InlineData(null, null)]
    [InlineData(2.0, null)]
    [InlineData(null, 1.5)]
    [InlineData(1.7, 2.5)]
    public void LogProbsAndEntropy_MatchHandComputation(double? temperature, double? tanhConstant)
    {
        LstmController c = Tiny(new ControllerOptions { Temperature = temperature, TanhConstant = tanhConstant });
        int[] sample = [2, 1, 3];
        Tensor[] lp = c.LogProbs([sample]);
        (double[][] expected, double entropy) = ByHand(c, sample, temperature, tanhConstant);
        for (int t = 0; t < sample.Length; t++)
        {
            Assert.Equal(expected[t].Length, lp[t].Dim(1));
            for (int k = 0; k < expected[t].Length; k++) Assert.Equal(expected[t][k], lp[t].Span[k], 5);
        }
        Assert.Equal(expected.Select((row, t) => row[sample[t]]).Sum(), LstmController.SequenceLogProbs(lp, [sample])[0], 5);
        Assert.Equal(entropy, LstmController.SequenceEntropies(lp)[0], 5);
    }

    [Fact]
    public void SequenceProbabilities_OverTheWholeSpace_SumToOne()
    {
        LstmController c = Tiny();
        var all = (from x in Enumerable.Range(0, 3) from y in Enumerable.Range(0, 2) from z in Enumerable.Range(0, 4) select new[] { x, y, z }).ToArray();
        double total = LstmController.SequenceLogProbs(c.LogProbs(all), all).Sum(Math.Exp);
        Assert.Equal(1.0, total, 5);
    }

    [Fact]
    public void Sample_ReportsTheLogProbAndEntropyOfTheTeacherForcedPass()
    {
        LstmController c = Tiny(new ControllerOptions { TanhConstant = 2.5 });
        var rng = new SeededRandom(3);
        for (int i = 0; i < 5; i++)
        {
            ControllerSample s = c.Sample(rng);
            Tensor[] lp = c.LogProbs([s.Sample]);
            Assert.Equal(LstmController.SequenceLogProbs(lp, [s.Sample])[0], s.LogProb, 5);
            Assert.Equal(LstmController.SequenceEntropies(lp)[0], s.Entropy, 5);
        }
    }

    [Fact]
    public void Sample_FollowsThePolicyDistribution()
    {
        // A single 3-way decision: empirical frequencies over 6,000 draws match softmax probabilities.
        var space = new DiscreteSpace([new DiscreteDecision("only", 3)]);
        var c = new LstmController(space, new ControllerOptions { HiddenSize = 4, EmbeddingSize = 4, InitRange = 1.0 }, new SeededRandom(11));
        double[] p = c.LogProbs([[0]])[0].ToArray().Select(v => Math.Exp(v)).ToArray();
        var counts = new int[3];
        var rng = new SeededRandom(5);
        for (int i = 0; i < 6000; i++) counts[c.Sample(rng).Sample[0]]++;
        for (int k = 0; k < 3; k++) Assert.InRange(counts[k] / 6000.0, p[k] - 0.025, p[k] + 0.025);
    }

    [Fact]
    public void Parameters_StartWithinInitRange_AndAreNamedPerDecisionAndKind()
    {
        var c = new LstmController(Mixed, new ControllerOptions(), new SeededRandom(1));
        Assert.Equal(["g_emb", "embeddings.0.weight", "embeddings.1.weight", "lstm_cell.weight_ih", "lstm_cell.weight_hh", "lstm_cell.bias_ih",
            "lstm_cell.bias_hh", "heads.0.weight", "heads.0.bias", "heads.1.weight", "heads.1.bias", "heads.2.weight", "heads.2.bias"],
            c.NamedParameters().Select(n => n.Name));
        Assert.Equal([4, 100], c.NamedParameters().Single(n => n.Name == "embeddings.1.weight").Tensor.ShapeArray);
        Assert.Equal([400, 100], c.Cell.WeightIh.ShapeArray);
        foreach ((_, Tensor t) in c.NamedParameters())
            Assert.All(t.ToArray(), v => Assert.InRange(v, -0.1f, 0.1f));
        Assert.Contains(c.Cell.WeightIh.ToArray(), v => Math.Abs(v) > 0.09f);
    }

    [SkippableFact]
    public void PolicyLoss_ControllerStepFixture_MatchesPyTorch()
    {
        string root = SharedFolder.Require("SHARPNAS_SEARCH_FIXTURES", "fixtures/torch-reference-search");
        var fx = new FixtureCase(Path.Combine(root, "controller_step"));
        int v = fx.Int("num_actions"), steps = fx.Int("num_steps");
        // The fixture's controller: one embedding table and one head shared by all steps.
        var space = DiscreteSpace.Uniform(steps, v, "action");
        var c = new LstmController(space, new ControllerOptions { HiddenSize = fx.Int("hidden_size"), EmbeddingSize = fx.Int("embedding_dim"), Heads = HeadSharing.PerKind });
        var names = new Dictionary<string, string>
        {
            ["g_emb"] = "g_emb", ["embeddings.0.weight"] = "embedding.weight", ["heads.0.weight"] = "head.weight", ["heads.0.bias"] = "head.bias",
            ["lstm_cell.weight_ih"] = "lstm_cell.weight_ih", ["lstm_cell.weight_hh"] = "lstm_cell.weight_hh",
            ["lstm_cell.bias_ih"] = "lstm_cell.bias_ih", ["lstm_cell.bias_hh"] = "lstm_cell.bias_hh",
        };
        Assert.Equal(names.Keys.Order(), c.NamedParameters().Select(p => p.Name).Order());
        c.LoadStateDict(names.ToDictionary(n => n.Key, n => fx.Load(n.Value)));

        int[] sample = fx.LoadInt64("actions").Select(a => (int)a).ToArray();
        double advantage = fx.Load("advantage").Item();
        Tensor[] lp = c.LogProbs([sample]);
        Tensor loss = LstmController.PolicyLoss(lp, [sample], [advantage], fx.Double("entropy_coef"));
        loss.Backward();

        var actual = new Dictionary<string, float[]>
        {
            ["log_probs"] = F.Reshape(F.Stack(lp), steps, v).ToArray(),
            ["sum_log_prob"] = [(float)LstmController.SequenceLogProbs(lp, [sample])[0]],
            ["sum_entropy"] = [(float)LstmController.SequenceEntropies(lp)[0]],
            ["loss"] = loss.ToArray(),
        };
        foreach ((string mine, string theirs) in names) actual["grad_" + theirs] = c.NamedParameters().Single(p => p.Name == mine).Tensor.Grad!.ToArray();
        var failures = new List<string>();
        foreach (FixtureCase.Entry e in fx.Expected())
        {
            string? diff = actual.TryGetValue(e.Name, out float[]? got)
                ? TensorAssert.Compare(got, fx.Load(e.Name).Span, e.Rtol ?? fx.Rtol, e.Atol ?? fx.Atol)
                : "not produced";
            if (diff is not null) failures.Add($"{e.Name}: {diff}");
        }
        Assert.True(failures.Count == 0, string.Join("; ", failures));
        Assert.Equal(12, fx.Expected().Count());   // 4 outputs and 8 gradients, all compared
    }
}
