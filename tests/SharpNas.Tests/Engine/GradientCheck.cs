using SharpNas.Engine;
using SharpNas.Engine.Autograd;

namespace SharpNas.Tests.Engine;

/// <summary>
/// Compares the gradients autograd computes with central finite differences. The scalar probed is
/// L = Σ y ⊙ R for a fixed random R of the output's shape, so the analytic side is one <c>Backward(R)</c> and the
/// numeric side perturbs one input element at a time (x ± h, h = step·max(1, |x|), the actual float32 step used as
/// the divisor) and accumulates L in float64.
/// </summary>
internal static class GradientCheck
{
    // Tolerance, per element of each gradient: |analytic − numeric| ≤ 1e-2·|numeric| + 1e-3·max|numeric| + 1e-4.
    // The forward pass is float32: each output carries a relative rounding error of ~6e-8, so L carries an error of
    // about 6e-8·‖y ⊙ R‖ (≈ 1e-6 here) and the difference quotient an error of about 1e-6 / 2h ≈ 1e-4 for h = 1e-2.
    // The O(h²) truncation error of smooth ops (BN, log-softmax) is below 1e-4 relative at these sizes. The bound
    // leaves ≥ 5× headroom over both and still fails a gradient that is 2 % off (see the checker's own test).
    public const double Rtol = 1e-2, AtolOfMax = 1e-3, AtolFloor = 1e-4;

    /// <summary>Null when every input's gradient matches, else what differs (tensor, element, both values).</summary>
    public static string? Compare(Func<Tensor[], Tensor> op, Tensor[] inputs, double step = 1e-2, ulong seed = 1,
        Action<Tensor[]>? corruptAnalytic = null)
    {
        // Analytic: leaves that require grad, one backward pass with dL/dy = R.
        Tensor[] leaves = inputs.Select(t => { Tensor c = t.Clone(); c.RequiresGrad = true; return c; }).ToArray();
        Tensor y = op(leaves);
        Tensor r = Random(y.ShapeArray, new SeededRandom(seed).Derive("R"));
        y.Backward(r);
        Tensor[] analytic = leaves.Select((l, i) => l.Grad ?? Tensor.Zeros(inputs[i].ShapeArray)).ToArray();
        corruptAnalytic?.Invoke(analytic);

        // Numeric: perturb copies that do not require grad, evaluate without recording.
        Tensor[] probe = inputs.Select(t => t.Clone()).ToArray();
        double Loss()
        {
            using var _ = GradMode.NoGrad();
            return Dot(op(probe), r);
        }

        var failures = new List<string>();
        for (int i = 0; i < probe.Length; i++)
        {
            var numeric = new double[probe[i].Size];
            for (int j = 0; j < numeric.Length; j++) numeric[j] = Central(probe[i], j, Loss, step);
            string? diff = Judge(analytic[i].Span, numeric);
            if (diff is not null) failures.Add($"input {i} {inputs[i].ShapeString}: {diff}");
        }
        return failures.Count == 0 ? null : string.Join("; ", failures);
    }

    /// <summary>dL/dt[j] by central differences; <paramref name="t"/> is restored afterwards.</summary>
    public static double Central(Tensor t, int j, Func<double> loss, double step)
    {
        float original = t.Span[j];
        double h = step * Math.Max(1.0, Math.Abs(original));
        float plus = (float)(original + h), minus = (float)(original - h);
        t.Span[j] = plus;
        double lp = loss();
        t.Span[j] = minus;
        double lm = loss();
        t.Span[j] = original;
        return (lp - lm) / ((double)plus - minus);
    }

    /// <summary>Null when every element is within the tolerance above (times <paramref name="looseness"/>), else the worst element.</summary>
    public static string? Judge(ReadOnlySpan<float> analytic, ReadOnlySpan<double> numeric, double looseness = 1)
    {
        double maxAbs = 0;
        foreach (double v in numeric) maxAbs = Math.Max(maxAbs, Math.Abs(v));
        int worst = -1, bad = 0;
        double worstRatio = 0;
        for (int j = 0; j < numeric.Length; j++)
        {
            double allowed = looseness * (Rtol * Math.Abs(numeric[j]) + AtolOfMax * maxAbs + AtolFloor);
            double ratio = Math.Abs(analytic[j] - numeric[j]) / allowed;
            if (double.IsNaN(ratio)) ratio = double.PositiveInfinity;
            if (ratio > 1) bad++;
            if (ratio > worstRatio) { worstRatio = ratio; worst = j; }
        }
        return bad == 0 ? null
            : $"{bad} of {numeric.Length} elements differ; worst [{worst}] analytic {analytic[worst]:G6} vs numeric {numeric[worst]:G6} ({worstRatio:F1}x the allowance)";
    }

    /// <summary>Σ a ⊙ b in float64.</summary>
    public static double Dot(Tensor a, Tensor b)
    {
        ReadOnlySpan<float> x = a.Span, y = b.Span;
        double s = 0;
        for (int i = 0; i < x.Length; i++) s += (double)x[i] * y[i];
        return s;
    }

    /// <summary>N(0, 1) values.</summary>
    public static Tensor Random(int[] shape, SeededRandom rng, double scale = 1)
    {
        Tensor t = Tensor.Zeros(shape);
        Span<float> s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = (float)(rng.NextNormal() * scale);
        return t;
    }
}
