using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace SharpNas.Engine.Optim;

/// <summary>
/// Stochastic gradient descent with PyTorch's exact semantics (dampening 0):
/// d = g + wd·p; buf = momentum·buf + d (on the first step buf = d); d = d + momentum·buf if Nesterov else buf;
/// p ← p − lr·d. Weight decay applies to every parameter given, BN weights included.
/// </summary>
public sealed class Sgd : Optimizer
{
    private readonly float[]?[] _buffers;

    /// <summary>Momentum factor (0 = plain SGD).</summary>
    public double Momentum { get; }
    /// <summary>L2 penalty added to the gradient.</summary>
    public double WeightDecay { get; }
    /// <summary>Nesterov momentum.</summary>
    public bool Nesterov { get; }

    /// <summary>Creates the optimizer.</summary>
    public Sgd(IEnumerable<Tensor> parameters, double lr, double momentum = 0, double weightDecay = 0, bool nesterov = false)
        : base(parameters, lr)
    {
        if (momentum < 0) throw new ArgumentOutOfRangeException(nameof(momentum), $"Sgd: momentum must be non-negative, got {momentum}");
        if (weightDecay < 0) throw new ArgumentOutOfRangeException(nameof(weightDecay), $"Sgd: weight decay must be non-negative, got {weightDecay}");
        if (nesterov && momentum <= 0) throw new ArgumentException("Sgd: Nesterov momentum needs momentum > 0");
        Momentum = momentum;
        WeightDecay = weightDecay;
        Nesterov = nesterov;
        _buffers = new float[]?[Params.Count];
    }

    /// <summary>The momentum buffer of parameter <paramref name="index"/> (null before its first step).</summary>
    public float[]? MomentumBuffer(int index) => _buffers[index];

    /// <summary>Sets the momentum buffer of parameter <paramref name="index"/> (as if earlier steps had run).</summary>
    public void SetMomentumBuffer(int index, ReadOnlySpan<float> values)
    {
        if (values.Length != Params[index].Size)
            throw new ArgumentException($"Sgd: momentum buffer of {values.Length} values for parameter {index} of {Params[index].Size}");
        _buffers[index] = values.ToArray();
    }

    /// <inheritdoc/>
    public override void Step()
    {
        float lr = (float)LearningRate, wd = (float)WeightDecay, mu = (float)Momentum;
        for (int i = 0; i < Params.Count; i++)
        {
            Tensor p = Params[i];
            if (p.Grad is null) continue;
            Span<float> w = p.Span;
            ReadOnlySpan<float> g = p.Grad.Span;
            if (mu == 0f)
            {
                for (int j = 0; j < w.Length; j++) w[j] -= lr * (g[j] + wd * w[j]);
                continue;
            }
            float[]? buf = _buffers[i];
            bool first = buf is null;
            buf ??= _buffers[i] = new float[w.Length];
            int k = 0;
            if (Vector256.IsHardwareAccelerated && !first)
            {
                // The scalar loop below, 8 lanes at a time, with the same operations in the same order.
                Vector256<float> vlr = Vector256.Create(lr), vwd = Vector256.Create(wd), vmu = Vector256.Create(mu);
                ref float rw = ref MemoryMarshal.GetReference(w), rg = ref MemoryMarshal.GetReference(g), rb = ref buf[0];
                for (; k <= w.Length - 8; k += 8)
                {
                    Vector256<float> wj = Vector256.LoadUnsafe(ref rw, (nuint)k);
                    Vector256<float> d = Vector256.LoadUnsafe(ref rg, (nuint)k) + vwd * wj;
                    Vector256<float> b = vmu * Vector256.LoadUnsafe(ref rb, (nuint)k) + d;
                    b.StoreUnsafe(ref rb, (nuint)k);
                    (wj - vlr * (Nesterov ? d + vmu * b : b)).StoreUnsafe(ref rw, (nuint)k);
                }
            }
            for (int j = k; j < w.Length; j++)
            {
                float d = g[j] + wd * w[j];
                float b = first ? d : mu * buf[j] + d;
                buf[j] = b;
                w[j] -= lr * (Nesterov ? d + mu * b : b);
            }
        }
        StepCount++;
    }

    /// <inheritdoc/>
    public override IEnumerable<(string Name, float[] Values)> State()
    {
        for (int i = 0; i < _buffers.Length; i++)
            if (_buffers[i] is float[] b) yield return ($"{i}.momentum_buffer", b);
    }

    /// <inheritdoc/>
    public override void LoadState(IReadOnlyDictionary<string, float[]> state, long stepCount)
    {
        for (int i = 0; i < _buffers.Length; i++)
            _buffers[i] = state.TryGetValue($"{i}.momentum_buffer", out float[]? b) ? CheckedCopy(b, i) : null;
        StepCount = stepCount;
    }

    private float[] CheckedCopy(float[] values, int index)
    {
        if (values.Length != Params[index].Size)
            throw new InvalidDataException($"Sgd: saved momentum buffer {index} has {values.Length} values, parameter has {Params[index].Size}");
        return (float[])values.Clone();
    }
}
