namespace SharpNas.Engine.Optim;

/// <summary>
/// Adam (Kingma &amp; Ba) with PyTorch's semantics. L2 style (<see cref="Decoupled"/> false): g ← g + wd·p.
/// AdamW style (true): p ← p·(1 − lr·wd) first, then the update with the raw gradient. Then
/// m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; p ← p − (lr/(1−β₁ᵗ))·m / (√v/√(1−β₂ᵗ) + eps).
/// </summary>
public sealed class Adam : Optimizer
{
    private readonly float[][] _m, _v;

    /// <summary>β₁, β₂.</summary>
    public (double Beta1, double Beta2) Betas { get; }
    /// <summary>Added to the denominator after bias correction.</summary>
    public double Eps { get; }
    /// <summary>Weight decay.</summary>
    public double WeightDecay { get; }
    /// <summary>True for AdamW (decoupled weight decay).</summary>
    public bool Decoupled { get; }

    /// <summary>Creates the optimizer.</summary>
    public Adam(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weightDecay = 0, bool decoupled = false) : base(parameters, lr)
    {
        if (beta1 is < 0 or >= 1 || beta2 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(beta1), $"Adam: betas must be in [0, 1), got ({beta1}, {beta2})");
        Betas = (beta1, beta2);
        Eps = eps;
        WeightDecay = weightDecay;
        Decoupled = decoupled;
        _m = Params.Select(p => new float[p.Size]).ToArray();
        _v = Params.Select(p => new float[p.Size]).ToArray();
    }

    /// <summary>AdamW: Adam with decoupled weight decay (default 0.01 as in PyTorch).</summary>
    public static Adam W(IEnumerable<Tensor> parameters, double lr = 1e-3, double weightDecay = 0.01) =>
        new(parameters, lr, weightDecay: weightDecay, decoupled: true);

    /// <inheritdoc/>
    public override void Step()
    {
        StepCount++;
        double b1 = Betas.Beta1, b2 = Betas.Beta2;
        double bc1 = 1 - Math.Pow(b1, StepCount), bc2 = 1 - Math.Pow(b2, StepCount);
        float stepSize = (float)(LearningRate / bc1), sqrtBc2 = (float)Math.Sqrt(bc2), eps = (float)Eps;
        float wd = (float)WeightDecay, decay = (float)(1 - LearningRate * WeightDecay);
        // 1 − β is formed in double before rounding: (1 − (float)0.999) is 1.3e-5 off 0.001, a visible error in v.
        float fb1 = (float)b1, fb2 = (float)b2, oneMinusB1 = (float)(1 - b1), oneMinusB2 = (float)(1 - b2);
        for (int i = 0; i < Params.Count; i++)
        {
            Tensor p = Params[i];
            if (p.Grad is null) continue;
            Span<float> w = p.Span;
            ReadOnlySpan<float> g = p.Grad.Span;
            float[] m = _m[i], v = _v[i];
            for (int j = 0; j < w.Length; j++)
            {
                float gj = g[j];
                if (Decoupled) w[j] *= decay;
                else gj += wd * w[j];
                m[j] = fb1 * m[j] + oneMinusB1 * gj;
                v[j] = fb2 * v[j] + oneMinusB2 * gj * gj;
                w[j] -= stepSize * m[j] / (MathF.Sqrt(v[j]) / sqrtBc2 + eps);
            }
        }
    }

    /// <summary>First-moment estimate of parameter <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> ExpAvg(int index) => _m[index];
    /// <summary>Second-moment estimate of parameter <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> ExpAvgSq(int index) => _v[index];

    /// <inheritdoc/>
    public override IEnumerable<(string Name, float[] Values)> State()
    {
        for (int i = 0; i < _m.Length; i++)
        {
            yield return ($"{i}.exp_avg", _m[i]);
            yield return ($"{i}.exp_avg_sq", _v[i]);
        }
    }

    /// <inheritdoc/>
    public override void LoadState(IReadOnlyDictionary<string, float[]> state, long stepCount)
    {
        for (int i = 0; i < _m.Length; i++)
        {
            Restore(state, $"{i}.exp_avg", _m[i]);
            Restore(state, $"{i}.exp_avg_sq", _v[i]);
        }
        StepCount = stepCount;
    }

    private static void Restore(IReadOnlyDictionary<string, float[]> state, string name, float[] target)
    {
        if (!state.TryGetValue(name, out float[]? values)) throw new InvalidDataException($"Adam: saved state lacks {name}");
        if (values.Length != target.Length) throw new InvalidDataException($"Adam: saved {name} has {values.Length} values, expected {target.Length}");
        values.CopyTo(target, 0);
    }
}
