using System.Globalization;
using SharpNas.Engine;
using SharpNas.Engine.Autograd;
using SharpNas.Engine.Functional;
using SharpNas.Engine.Modules;
using SharpNas.Search.Spaces;

namespace SharpNas.Search.Strategies.Reinforce;

/// <summary>Whether each decision has its own softmax head, or decisions of one kind share one.</summary>
public enum HeadSharing
{
    /// <summary>One linear head per decision (the NASNet controller).</summary>
    PerDecision,
    /// <summary>One head per decision kind; a decision with fewer choices than its kind's largest reads the first
    /// logits of the head.</summary>
    PerKind,
}

/// <summary>Settings of <see cref="LstmController"/>.</summary>
public sealed record ControllerOptions
{
    /// <summary>LSTM units (NASNet: 100).</summary>
    public int HiddenSize { get; init; } = 100;
    /// <summary>Size of the input embeddings (the start input <c>g_emb</c> and the decision embeddings).</summary>
    public int EmbeddingSize { get; init; } = 100;
    /// <summary>Every parameter starts U[−r, r] (NASNet: 0.1).</summary>
    public double InitRange { get; init; } = 0.1;
    /// <summary>Logits are divided by this before the softmax (null: none). Not in the NASNet paper; an ENAS option.</summary>
    public double? Temperature { get; init; }
    /// <summary>Logits become c·tanh(logits) (after the temperature) when set. Not in the NASNet paper; an ENAS option.</summary>
    public double? TanhConstant { get; init; }
    /// <summary>Per-decision (default) or per-kind softmax heads.</summary>
    public HeadSharing Heads { get; init; } = HeadSharing.PerDecision;

    /// <summary>Throws naming the bad setting.</summary>
    public void Validate()
    {
        if (HiddenSize < 1 || EmbeddingSize < 1) throw new ArgumentOutOfRangeException(nameof(HiddenSize), $"controller: hidden and embedding sizes must be ≥ 1, found {HiddenSize} and {EmbeddingSize}");
        if (!(InitRange >= 0)) throw new ArgumentOutOfRangeException(nameof(InitRange), $"controller: init range must be ≥ 0, found {InitRange}");
        if (Temperature is not null && !(Temperature > 0)) throw new ArgumentOutOfRangeException(nameof(Temperature), $"controller: temperature must be > 0, found {Temperature}");
        if (TanhConstant is not null && !(TanhConstant > 0)) throw new ArgumentOutOfRangeException(nameof(TanhConstant), $"controller: tanh constant must be > 0, found {TanhConstant}");
    }
}

/// <summary>One architecture drawn from the controller, with the log-probability of the whole sequence and the sum
/// of the per-decision entropies (nats).</summary>
public sealed record ControllerSample(int[] Sample, double LogProb, double Entropy);

/// <summary>
/// The NASNet controller: a one-layer LSTM that takes the decisions of a <see cref="IDiscreteSpace"/> in order. Step 0
/// reads a learned start input <c>g_emb</c> [1, E]; step t reads the embedding of the choice taken at step t − 1, from
/// the table of that decision's kind (<c>embeddings.{k}.weight</c>); the LSTM output goes through the decision's
/// linear head (<c>heads.{i}</c>, or the kind's with <see cref="HeadSharing.PerKind"/>), optionally divided by a
/// temperature and squashed by c·tanh, then a log-softmax. Initial state zeros.
/// </summary>
public sealed class LstmController : Module
{
    private readonly int[] _headOf, _kindOf;
    private readonly int[] _choices;
    private readonly ModuleTable<Embedding> _embeddings;
    private readonly ModuleTable<Linear> _heads;

    /// <summary>The space whose decisions the controller emits.</summary>
    public IDiscreteSpace Space { get; }
    /// <summary>The settings.</summary>
    public ControllerOptions Options { get; }
    /// <summary>The learned first input [1, E].</summary>
    public Tensor StartInput { get; }
    /// <summary>The LSTM cell.</summary>
    public LstmCell Cell { get; }
    /// <summary>The kinds in order of first appearance; <c>embeddings.{k}</c> belongs to kind k.</summary>
    public IReadOnlyList<string> Kinds { get; }

    /// <summary>Creates the controller with its parameters U[−r, r] from <paramref name="rng"/> (zeros when null).</summary>
    public LstmController(IDiscreteSpace space, ControllerOptions? options = null, SeededRandom? rng = null)
    {
        Space = space ?? throw new ArgumentNullException(nameof(space));
        Options = options ?? new ControllerOptions();
        Options.Validate();
        IReadOnlyList<DiscreteDecision> d = space.Decisions;
        var kinds = d.Select(x => x.Kind).Distinct(StringComparer.Ordinal).ToList();
        Kinds = kinds;
        _kindOf = d.Select(x => kinds.IndexOf(x.Kind)).ToArray();
        _choices = d.Select(x => x.Choices).ToArray();
        int[] kindChoices = kinds.Select(k => d.Where(x => x.Kind == k).Max(x => x.Choices)).ToArray();
        int e = Options.EmbeddingSize, h = Options.HiddenSize;

        StartInput = RegisterParameter("g_emb", Tensor.Zeros(1, e));
        _embeddings = RegisterModule("embeddings", new ModuleTable<Embedding>(kindChoices.Select(n => new Embedding(n, e))));
        Cell = RegisterModule("lstm_cell", new LstmCell(e, h));
        if (Options.Heads == HeadSharing.PerDecision)
        {
            _headOf = Enumerable.Range(0, d.Count).ToArray();
            _heads = RegisterModule("heads", new ModuleTable<Linear>(_choices.Select(n => new Linear(h, n))));
        }
        else
        {
            _headOf = _kindOf;
            _heads = RegisterModule("heads", new ModuleTable<Linear>(kindChoices.Select(n => new Linear(h, n))));
        }
        if (rng is not null) Reset(rng);
    }

    /// <summary>Sets every parameter U[−r, r], each from a stream derived from <paramref name="rng"/> and its name.</summary>
    public void Reset(SeededRandom rng)
    {
        foreach ((string name, Tensor t) in NamedParameters()) Init.Uniform(t, Options.InitRange, rng.Derive(name));
    }

    /// <summary>Draws one architecture (no graph is recorded).</summary>
    public ControllerSample Sample(SeededRandom rng)
    {
        using var _ = GradMode.NoGrad();
        int n = _choices.Length;
        var sample = new int[n];
        double logProb = 0, entropy = 0;
        LstmState state = ZeroState(1);
        Tensor x = StartInput;
        for (int i = 0; i < n; i++)
        {
            state = Cell.Forward(x, state);
            ReadOnlySpan<float> lp = StepLogProbs(i, state.H).Span;
            int choice = Draw(lp, rng.NextDouble());
            for (int k = 0; k < lp.Length; k++) entropy -= Math.Exp(lp[k]) * lp[k];
            sample[i] = choice;
            logProb += lp[choice];
            if (i + 1 < n) x = _embeddings[_kindOf[i]].Forward([choice]);
        }
        return new ControllerSample(sample, logProb, entropy);
    }

    /// <summary>Inverse-CDF draw: the first k with u &lt; p_0 + … + p_k (the last choice if rounding leaves u above the total).</summary>
    private static int Draw(ReadOnlySpan<float> logProbs, double u)
    {
        double cumulative = 0;
        for (int k = 0; k < logProbs.Length - 1; k++)
        {
            cumulative += Math.Exp(logProbs[k]);
            if (u < cumulative) return k;
        }
        return logProbs.Length - 1;
    }

    /// <summary>
    /// Teacher-forced pass over a batch of architectures (each fed its own previous choices), recording the graph:
    /// for each decision i, the log-probabilities [B, choices_i] of its choices.
    /// </summary>
    public Tensor[] LogProbs(IReadOnlyList<int[]> samples)
    {
        int b = samples.Count, n = _choices.Length;
        if (b == 0) throw new ArgumentException("controller: no samples to score");
        foreach (int[] s in samples) Space.Validate(s);
        var result = new Tensor[n];
        LstmState state = ZeroState(b);
        Tensor x = b == 1 ? StartInput : F.Embedding(StartInput, new long[b]);
        var indices = new long[b];
        for (int i = 0; i < n; i++)
        {
            state = Cell.Forward(x, state);
            result[i] = StepLogProbs(i, state.H);
            if (i + 1 < n)
            {
                for (int j = 0; j < b; j++) indices[j] = samples[j][i];
                x = _embeddings[_kindOf[i]].Forward(indices);
            }
        }
        return result;
    }

    /// <summary>
    /// The policy-gradient loss of a batch: −Σ_b w_b·log π(s_b) − (β/B)·Σ_b Σ_i H_i(b), where w_b are per-sample
    /// weights (an advantage, already divided by the batch size for a mean) and H_i the entropy of decision i's
    /// distribution. The entropy is differentiated through both p and log p.
    /// </summary>
    public static Tensor PolicyLoss(Tensor[] logProbs, IReadOnlyList<int[]> samples, ReadOnlySpan<double> weights, double entropyWeight)
    {
        int b = samples.Count;
        if (weights.Length != b) throw new ArgumentException($"controller: {weights.Length} weights for {b} samples");
        Tensor? loss = null;
        for (int i = 0; i < logProbs.Length; i++)
        {
            Tensor lp = logProbs[i];
            int c = lp.Dim(1);
            Tensor mask = Tensor.Zeros(b, c);
            Span<float> m = mask.Span;
            for (int j = 0; j < b; j++) m[j * c + samples[j][i]] = (float)-weights[j];
            Tensor term = F.Sum(F.Mul(lp, mask));
            if (entropyWeight != 0)
                term = F.Add(term, F.Scale(F.Sum(F.Mul(F.Softmax(lp), lp)), (float)(entropyWeight / b)));
            loss = loss is null ? term : F.Add(loss, term);
        }
        return loss!;
    }

    /// <summary>log π(s_b) of each sample, read from a pass's log-probabilities.</summary>
    public static double[] SequenceLogProbs(Tensor[] logProbs, IReadOnlyList<int[]> samples)
    {
        var r = new double[samples.Count];
        for (int i = 0; i < logProbs.Length; i++)
        {
            ReadOnlySpan<float> lp = logProbs[i].Span;
            int c = logProbs[i].Dim(1);
            for (int j = 0; j < r.Length; j++) r[j] += lp[j * c + samples[j][i]];
        }
        return r;
    }

    /// <summary>Σ_i H_i of each sample (nats), read from a pass's log-probabilities.</summary>
    public static double[] SequenceEntropies(Tensor[] logProbs)
    {
        int b = logProbs[0].Dim(0);
        var r = new double[b];
        foreach (Tensor t in logProbs)
        {
            ReadOnlySpan<float> lp = t.Span;
            int c = t.Dim(1);
            for (int j = 0; j < b; j++)
                for (int k = 0; k < c; k++) r[j] -= Math.Exp(lp[j * c + k]) * lp[j * c + k];
        }
        return r;
    }

    private LstmState ZeroState(int batch) => new(Tensor.Zeros(batch, Options.HiddenSize), Tensor.Zeros(batch, Options.HiddenSize));

    private Tensor StepLogProbs(int decision, Tensor h)
    {
        Linear head = _heads[_headOf[decision]];
        Tensor logits = head.Forward(h);
        int n = _choices[decision];
        if (logits.Dim(1) != n) logits = F.Narrow(logits, 1, 0, n);
        if (Options.Temperature is double temperature) logits = F.Scale(logits, (float)(1 / temperature));
        if (Options.TanhConstant is double c) logits = F.Scale(F.Tanh(logits), (float)c);
        return F.LogSoftmax(logits);
    }

    /// <summary>An ordered list of child modules registered as <c>0</c>, <c>1</c>, … (PyTorch's ModuleList keys).</summary>
    private sealed class ModuleTable<T> : Module where T : Module
    {
        private readonly T[] _items;

        public ModuleTable(IEnumerable<T> items)
        {
            _items = items.ToArray();
            for (int i = 0; i < _items.Length; i++) RegisterModule(i.ToString(CultureInfo.InvariantCulture), _items[i]);
        }

        public T this[int index] => _items[index];
    }
}
