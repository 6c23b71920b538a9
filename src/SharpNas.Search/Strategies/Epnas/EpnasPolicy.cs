using SharpNas.Engine;
using SharpNas.Engine.Functional;
using SharpNas.Engine.Modules;
using SharpNas.Training;

namespace SharpNas.Search.Strategies.Epnas;

/// <summary>Sizes and training settings of the EPNAS policy (paper §3.2 and §4).</summary>
public sealed record EpnasPolicyOptions
{
    /// <summary>Size of the layer and decision embeddings.</summary>
    public int EmbeddingSize { get; init; } = 32;
    /// <summary>Units of the LSTM over the layer embeddings (its last hidden state is the network embedding).</summary>
    public int NetworkLstmSize { get; init; } = 32;
    /// <summary>Units of the scale LSTM.</summary>
    public int ScaleLstmSize { get; init; } = 128;
    /// <summary>Units of the insert LSTM.</summary>
    public int InsertLstmSize { get; init; } = 128;
    /// <summary>Every weight starts in U[−InitRange, InitRange].</summary>
    public double InitRange { get; init; } = 0.1;
    /// <summary>Adam's learning rate.</summary>
    public double LearningRate { get; init; } = 0.0006;
    /// <summary>The moving-average baseline keeps this fraction of its value at each update.</summary>
    public double BaselineDecay { get; init; } = 0.95;
    /// <summary>Weight of the entropy bonus in the loss (0 = plain REINFORCE as in the paper).</summary>
    public double EntropyWeight { get; init; }
}

/// <summary>One action: a channel and a width choice per scale group, then the insert/remove/keep decisions.</summary>
public sealed record EpnasAction(IReadOnlyList<int> ChannelChoices, IReadOnlyList<int> WidthChoices, IReadOnlyList<int> InsertDecisions)
{
    /// <inheritdoc/>
    public override string ToString() =>
        $"scale c[{string.Join(",", ChannelChoices)}] w[{string.Join(",", WidthChoices)}] insert[{string.Join(",", InsertDecisions)}]";
}

/// <summary>What the policy did to one genotype: the action, the child it made, and the summed log-probability and
/// entropy of its decisions (tensors on the autograd tape until the update).</summary>
public sealed record EpnasTrajectory<TG>(TG Parent, TG Child, EpnasAction Action, Tensor LogProb, Tensor Entropy) where TG : class, IArchitecture
{
    /// <summary>Number of decisions taken.</summary>
    public int Decisions => Action.ChannelChoices.Count + Action.WidthChoices.Count + Action.InsertDecisions.Count;
}

/// <summary>
/// The EPNAS policy network (paper §3.2, Fig. 2): each layer (or branch) of the input network is the sum of its tokens'
/// rows in a trainable embedding table; an LSTM runs over the layer embeddings and its last hidden state is the network
/// embedding e. The <i>scale LSTM</i> takes, for each scale group g, [e ; mean of the layer LSTM's outputs over group g]
/// and emits a channel-step and a width-step decision; the <i>insert LSTM</i> starts from e and, at each following step,
/// takes the embedding of its previous decision, emitting the insert/remove/keep decisions. Each decision kind has its
/// own softmax head; invalid choices are masked (probability 0) and the insert position adds the check-table log-prior.
/// <para>State-dict names: <c>layer_embedding</c>, <c>network_lstm</c>, <c>scale_lstm</c>, <c>insert_lstm</c>,
/// <c>decision_embedding</c>, <c>heads.{kind}</c>.</para>
/// </summary>
public sealed class EpnasPolicy<TG> : Module where TG : class, IArchitecture
{
    private const float Masked = -1e9f;
    private readonly Embedding _layerEmbedding, _decisionEmbedding;
    private readonly Lstm _networkLstm;
    private readonly LstmCell _scaleLstm, _insertLstm;
    private readonly Linear[] _heads;
    private readonly int[] _decisionOffset;

    /// <summary>The action space.</summary>
    public IEpnasActionSpace<TG> Space { get; }

    /// <summary>The settings.</summary>
    public EpnasPolicyOptions Options { get; }

    /// <summary>Creates the policy and initialises every weight in U[−InitRange, InitRange] from <paramref name="rng"/>.</summary>
    public EpnasPolicy(IEpnasActionSpace<TG> space, SeededRandom rng, EpnasPolicyOptions? options = null)
    {
        Space = space;
        Options = options ?? new EpnasPolicyOptions();
        int d = Options.EmbeddingSize;
        _layerEmbedding = RegisterModule("layer_embedding", new Embedding(space.TokenCount, d));
        _networkLstm = RegisterModule("network_lstm", new Lstm(d, Options.NetworkLstmSize));
        _scaleLstm = RegisterModule("scale_lstm", new LstmCell(2 * Options.NetworkLstmSize, Options.ScaleLstmSize));
        _insertLstm = RegisterModule("insert_lstm", new LstmCell(Math.Max(d, Options.NetworkLstmSize), Options.InsertLstmSize));
        _decisionOffset = new int[space.Kinds.Count + 1];
        for (int k = 0; k < space.Kinds.Count; k++) _decisionOffset[k + 1] = _decisionOffset[k] + space.Kinds[k].Choices;
        _decisionEmbedding = RegisterModule("decision_embedding", new Embedding(_decisionOffset[^1], Math.Max(d, Options.NetworkLstmSize)));
        var heads = RegisterModule("heads", new Holder());
        _heads = space.Kinds.Select((k, i) => heads.Add(k.Name, new Linear(i < EpnasDecisions.ActionKind ? Options.ScaleLstmSize : Options.InsertLstmSize, k.Choices))).ToArray();
        foreach ((string name, Tensor p) in NamedParameters()) Init.Uniform(p, Options.InitRange, rng.Derive(name));
    }

    /// <summary>Samples an action for <paramref name="parent"/> and applies it.</summary>
    public EpnasTrajectory<TG> Sample(TG parent, SeededRandom rng) => Run(parent, rng, null);

    /// <summary>The log-probability and entropy of a given <paramref name="action"/> on <paramref name="parent"/>.</summary>
    public EpnasTrajectory<TG> Evaluate(TG parent, EpnasAction action) => Run(parent, null, action);

    private EpnasTrajectory<TG> Run(TG parent, SeededRandom? rng, EpnasAction? forced)
    {
        int[][] tokens = Space.Tokens(parent);
        var embedded = tokens.Select(t => t.Select(tok => F.Embedding(_layerEmbedding.Weight, [tok])).Aggregate(F.Add)).ToArray();
        LstmOutput net = _networkLstm.Forward(F.Stack(embedded));   // [L, 1, d] → [L, 1, h]
        Tensor e = F.Reshape(net.Last.H, 1, Options.NetworkLstmSize);
        var logProbs = new List<Tensor>();
        var entropies = new List<Tensor>();

        int Decide(Tensor h, int kind, bool[] mask, float[]? prior, int? choice)
        {
            float[] bias = new float[mask.Length];
            for (int i = 0; i < mask.Length; i++) bias[i] = mask[i] ? prior?[i] ?? 0 : Masked;
            Tensor logits = F.Add(_heads[kind].Forward(h), Tensor.FromArray(bias, 1, mask.Length));
            Tensor logp = F.LogSoftmax(logits);
            int c = choice ?? Draw(logp.Span, rng!);
            if (c < 0 || c >= mask.Length || !mask[c])
                throw new InvalidOperationException($"EPNAS policy: choice {c} of decision {Space.Kinds[kind].Name} is masked or out of range");
            logProbs.Add(F.Narrow(logp, 1, c, 1));
            entropies.Add(F.Scale(F.Sum(F.Mul(F.Softmax(logits), logp)), -1f));
            return c;
        }

        // Scale LSTM: one step per group.
        IReadOnlyList<int[]> groups = Space.Groups(parent);
        var channel = new int[groups.Count];
        var width = new int[groups.Count];
        var state = new LstmState(Tensor.Zeros(1, Options.ScaleLstmSize), Tensor.Zeros(1, Options.ScaleLstmSize));
        for (int g = 0; g < groups.Count; g++)
        {
            Tensor mean = F.Scale(groups[g].Select(i => F.Reshape(F.Narrow(net.Output, 0, i, 1), 1, Options.NetworkLstmSize)).Aggregate(F.Add), 1f / groups[g].Length);
            state = _scaleLstm.Forward(F.ConcatChannels(e, mean), state);
            channel[g] = Decide(state.H, EpnasDecisions.ChannelScale, Space.ScaleMask(parent, groups[g], true), null, forced?.ChannelChoices[g]);
            width[g] = Decide(state.H, EpnasDecisions.WidthScale, Space.ScaleMask(parent, groups[g], false), null, forced?.WidthChoices[g]);
        }
        TG scaled = Space.Scale(parent, channel, width);

        // Insert LSTM: e first, then the embedding of each previous decision.
        var decisions = new List<int>();
        state = new LstmState(Tensor.Zeros(1, Options.InsertLstmSize), Tensor.Zeros(1, Options.InsertLstmSize));
        Tensor x = Options.EmbeddingSize > Options.NetworkLstmSize ? F.ConcatChannels(e, Tensor.Zeros(1, Options.EmbeddingSize - Options.NetworkLstmSize)) : e;
        while (Space.NextInsert(scaled, decisions) is { } request)
        {
            if (forced is not null && decisions.Count >= forced.InsertDecisions.Count)
                throw new ArgumentException($"EPNAS policy: the action {forced} ends before its insert decisions are complete");
            state = _insertLstm.Forward(x, state);
            int c = Decide(state.H, request.Kind, request.Mask, request.LogPrior, forced?.InsertDecisions[decisions.Count]);
            decisions.Add(c);
            x = F.Embedding(_decisionEmbedding.Weight, [_decisionOffset[request.Kind] + c]);
        }
        if (forced is not null && decisions.Count != forced.InsertDecisions.Count)
            throw new ArgumentException($"EPNAS policy: the action {forced} has more insert decisions than the space asks for");
        TG child = Space.Insert(scaled, decisions);
        return new EpnasTrajectory<TG>(parent, child, new EpnasAction(channel, width, decisions),
            logProbs.Aggregate(F.Add), entropies.Aggregate(F.Add));
    }

    private static int Draw(ReadOnlySpan<float> logp, SeededRandom rng)
    {
        double u = rng.NextDouble(), acc = 0;
        int last = 0;
        for (int i = 0; i < logp.Length; i++)
        {
            double p = Math.Exp(logp[i]);
            if (p <= 0) continue;
            last = i;
            acc += p;
            if (u < acc) return i;
        }
        return last;
    }

    private sealed class Holder : Module
    {
        public Linear Add(string name, Linear m) => RegisterModule(name.Replace('-', '_'), m);
    }
}

/// <summary>
/// REINFORCE for the EPNAS policy (paper Eq. 2): the loss is −Σ_branches Σ_steps (R − b)·log π(a) (minus the entropy
/// bonus when set), summed over every step of every branch of an episode, minimised with Adam; b is a moving average
/// of the rewards (the first update sets it to their mean).
/// </summary>
public sealed class EpnasReinforce<TG> where TG : class, IArchitecture
{
    private readonly SharpNas.Engine.Optim.Adam _adam;

    /// <summary>The policy trained.</summary>
    public EpnasPolicy<TG> Policy { get; }

    /// <summary>The baseline, or null before the first update.</summary>
    public double? Baseline { get; private set; }

    /// <summary>Creates the trainer (Adam with the policy's learning rate).</summary>
    public EpnasReinforce(EpnasPolicy<TG> policy)
    {
        Policy = policy;
        _adam = new SharpNas.Engine.Optim.Adam(policy.Parameters(), policy.Options.LearningRate);
    }

    /// <summary>One policy-gradient step on the (trajectory, reward) pairs of every step and branch; returns the loss.</summary>
    public double Update(IReadOnlyList<(EpnasTrajectory<TG> Trajectory, double Reward)> samples)
    {
        if (samples.Count == 0) throw new ArgumentException("EPNAS REINFORCE: no samples to learn from");
        double mean = samples.Average(s => s.Reward);
        double b = Baseline ?? mean;
        Tensor loss = samples.Select(s => F.Scale(s.Trajectory.LogProb, (float)-(s.Reward - b))).Aggregate(F.Add);
        if (Policy.Options.EntropyWeight != 0)
            loss = F.Add(loss, F.Scale(samples.Select(s => s.Trajectory.Entropy).Aggregate(F.Add), (float)-Policy.Options.EntropyWeight));
        Policy.ZeroGrad();
        Tensor scalar = F.Sum(loss);
        scalar.Backward();
        _adam.Step();
        double d = Policy.Options.BaselineDecay;
        Baseline = Baseline is null ? mean : d * Baseline.Value + (1 - d) * mean;
        return scalar.Item();
    }
}
