using SharpNas.Engine;
using SharpNas.Engine.Optim;
using SharpNas.Search.Spaces;
using SharpNas.Search.Strategies.Discrete;

namespace SharpNas.Search.Strategies.Reinforce;

/// <summary>How the controller is trained from rewards.</summary>
public enum PolicyGradient
{
    /// <summary>REINFORCE (Williams 1992): one gradient step per batch of architectures.</summary>
    Reinforce,
    /// <summary>PPO (Schulman et al. 2017): clipped objective, several epochs over minibatches of each batch.</summary>
    Ppo,
}

/// <summary>Settings of <see cref="ReinforceStrategy"/>. Defaults are the NASNet controller's (NOTES §2).</summary>
public sealed record ReinforceOptions
{
    /// <summary>The controller's shape and initialisation.</summary>
    public ControllerOptions Controller { get; init; } = new();
    /// <summary>REINFORCE or PPO.</summary>
    public PolicyGradient Algorithm { get; init; } = PolicyGradient.Reinforce;
    /// <summary>Adam learning rate (NASNet: 0.00035).</summary>
    public double LearningRate { get; init; } = 0.00035;
    /// <summary>Decay d of the reward baseline b ← d·b + (1 − d)·r (NASNet: 0.95).</summary>
    public double BaselineDecay { get; init; } = 0.95;
    /// <summary>β of the entropy bonus (NASNet: 1e-5).</summary>
    public double EntropyWeight { get; init; } = 1e-5;
    /// <summary>Architectures sampled with one policy before it is updated (REINFORCE: averaged into one step;
    /// PPO: the batch the epochs run over).</summary>
    public int BatchSize { get; init; } = 1;
    /// <summary>PPO: passes over each batch.</summary>
    public int PpoEpochs { get; init; } = 4;
    /// <summary>PPO: architectures per gradient step (NASNet: 20).</summary>
    public int MinibatchSize { get; init; } = 20;
    /// <summary>PPO: the ratio π/π_old is clipped to [1 − ε, 1 + ε].</summary>
    public double ClipEpsilon { get; init; } = 0.2;
    /// <summary>Global gradient-norm clip (null: none).</summary>
    public double? GradClip { get; init; }

    /// <summary>The NASNet paper's PPO set-up: batches of 20 architectures, lr 0.00035, entropy 1e-5, baseline 0.95.</summary>
    public static ReinforceOptions NasNetPpo { get; } = new() { Algorithm = PolicyGradient.Ppo, BatchSize = 20, MinibatchSize = 20 };

    /// <summary>Throws naming the bad setting.</summary>
    public void Validate()
    {
        Controller.Validate();
        if (!(LearningRate > 0)) throw new ArgumentOutOfRangeException(nameof(LearningRate), $"controller: learning rate must be > 0, found {LearningRate}");
        if (BaselineDecay is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(BaselineDecay), $"controller: baseline decay must be in [0, 1), found {BaselineDecay}");
        if (!(EntropyWeight >= 0)) throw new ArgumentOutOfRangeException(nameof(EntropyWeight), $"controller: entropy weight must be ≥ 0, found {EntropyWeight}");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), $"controller: batch size must be ≥ 1, found {BatchSize}");
        if (PpoEpochs < 1) throw new ArgumentOutOfRangeException(nameof(PpoEpochs), $"controller: PPO epochs must be ≥ 1, found {PpoEpochs}");
        if (MinibatchSize < 1) throw new ArgumentOutOfRangeException(nameof(MinibatchSize), $"controller: minibatch size must be ≥ 1, found {MinibatchSize}");
        if (!(ClipEpsilon > 0)) throw new ArgumentOutOfRangeException(nameof(ClipEpsilon), $"controller: clip ε must be > 0, found {ClipEpsilon}");
        if (GradClip is not null && !(GradClip > 0)) throw new ArgumentOutOfRangeException(nameof(GradClip), $"controller: gradient clip must be > 0, found {GradClip}");
    }
}

/// <summary>
/// The NASNet search: an <see cref="LstmController"/> samples architectures; each reward r gives an advantage
/// A = r − b against an exponential moving average b of the earlier rewards (b starts at the first reward), then b is
/// updated. After every <see cref="ReinforceOptions.BatchSize"/> observations the controller takes Adam steps:
/// <list type="bullet">
/// <item>REINFORCE: one step on −(1/B)·Σ A_b·log π(s_b) − (β/B)·Σ H(s_b).</item>
/// <item>PPO: for each epoch, minibatches of the shuffled batch, each a step on the clipped surrogate
/// −(1/M)·Σ min(ρ_b·A_b, clip(ρ_b, 1 ± ε)·A_b) − (β/M)·Σ H, with ρ = π/π_old. Its gradient is that of
/// −(1/M)·Σ c_b·log π(s_b) with the constant c_b = ρ_b·A_b where the unclipped term is the minimum and 0 where the
/// clipped (constant) one is, which is how it is computed.</item>
/// </list>
/// Updates depend only on the observed (sample, reward) pairs and the seed, so replaying a history rebuilds the
/// controller exactly.
/// </summary>
public sealed class ReinforceStrategy : DiscreteStrategy
{
    private readonly Adam _adam;
    private readonly List<(int[] Sample, double Advantage)> _batch = [];
    private int _updates;

    /// <summary>The settings.</summary>
    public ReinforceOptions Options { get; }
    /// <summary>The policy.</summary>
    public LstmController Controller { get; }
    /// <summary>The reward baseline (null before the first reward).</summary>
    public double? Baseline { get; private set; }
    /// <summary>Controller updates (batches) done.</summary>
    public int Updates => _updates;

    /// <summary>Creates the strategy; the controller is initialised from the seed.</summary>
    public ReinforceStrategy(IDiscreteSpace space, ulong seed, ReinforceOptions? options = null) : base(space, seed)
    {
        Options = options ?? new ReinforceOptions();
        Options.Validate();
        Controller = new LstmController(space, Options.Controller, Rng.Derive("controller/init"));
        _adam = new Adam(Controller.Parameters(), Options.LearningRate);
    }

    /// <inheritdoc/>
    public override string Name => Options.Algorithm == PolicyGradient.Ppo ? "ppo" : "reinforce";

    /// <inheritdoc/>
    protected override int[] ProposeCore(int index, SeededRandom rng) => Controller.Sample(rng).Sample;

    /// <inheritdoc/>
    protected override void OnObserved(DiscreteObservation observation, int index)
    {
        double baseline = Baseline ?? observation.Reward;
        _batch.Add((observation.Sample, observation.Reward - baseline));
        Baseline = Options.BaselineDecay * baseline + (1 - Options.BaselineDecay) * observation.Reward;
        if (_batch.Count < Options.BatchSize) return;
        if (Options.Algorithm == PolicyGradient.Ppo) PpoUpdate();
        else ReinforceUpdate();
        _batch.Clear();
        _updates++;
    }

    private void ReinforceUpdate()
    {
        var samples = _batch.Select(x => x.Sample).ToArray();
        var weights = _batch.Select(x => x.Advantage / samples.Length).ToArray();
        Step(samples, weights);
    }

    private void PpoUpdate()
    {
        int b = _batch.Count;
        var samples = _batch.Select(x => x.Sample).ToArray();
        double[] oldLogProbs;
        using (Engine.Autograd.GradMode.NoGrad()) oldLogProbs = LstmController.SequenceLogProbs(Controller.LogProbs(samples), samples);
        SeededRandom rng = Rng.Derive("ppo", _updates);
        int[] order = Enumerable.Range(0, b).ToArray();
        int m = Math.Min(Options.MinibatchSize, b);
        double eps = Options.ClipEpsilon;
        for (int epoch = 0; epoch < Options.PpoEpochs; epoch++)
        {
            rng.Shuffle(order.AsSpan());
            for (int start = 0; start < b; start += m)
            {
                int count = Math.Min(m, b - start);
                var mini = new int[count][];
                var advantages = new double[count];
                var old = new double[count];
                for (int j = 0; j < count; j++)
                {
                    mini[j] = samples[order[start + j]];
                    advantages[j] = _batch[order[start + j]].Advantage;
                    old[j] = oldLogProbs[order[start + j]];
                }
                Controller.ZeroGrad();
                var logProbs = Controller.LogProbs(mini);
                double[] now = LstmController.SequenceLogProbs(logProbs, mini);
                var weights = new double[count];
                for (int j = 0; j < count; j++)
                {
                    double ratio = Math.Exp(now[j] - old[j]), a = advantages[j];
                    bool clippedIsMin = (a > 0 && ratio > 1 + eps) || (a < 0 && ratio < 1 - eps);
                    weights[j] = clippedIsMin ? 0 : ratio * a / count;
                }
                ApplyStep(LstmController.PolicyLoss(logProbs, mini, weights, Options.EntropyWeight));
            }
        }
    }

    private void Step(int[][] samples, double[] weights)
    {
        Controller.ZeroGrad();
        var logProbs = Controller.LogProbs(samples);
        ApplyStep(LstmController.PolicyLoss(logProbs, samples, weights, Options.EntropyWeight));
    }

    private void ApplyStep(Engine.Tensor loss)
    {
        loss.Backward();
        if (Options.GradClip is double clip) Optimizer.ClipGradNorm(Controller.Parameters(), clip);
        _adam.Step();
    }
}
