using SharpNas.Engine;
using SharpNas.Engine.Autograd;
using SharpNas.Engine.Functional;
using SharpNas.Engine.Modules;

namespace SharpNas.Tests.Engine;

/// <summary>
/// The ops the NASNet/EPNAS controllers and the EPNAS space add (activations, softmax, embedding, the LSTM and the
/// primitives it is made of): gradients equal to central finite differences (driver and tolerance in
/// <see cref="GradientCheck"/>), PyTorch's choices at the kinks, and the fused LSTM cell equal to the composite one.
/// </summary>
public sealed class SearchOpsGradientTests
{
    private sealed record Case(Func<Tensor[], Tensor> Op, Tensor[] Inputs, double Step = 1e-2);

    private static readonly long[] RepeatedIndices = [3, 0, 3, 5, 3, 1, 0, 5];

    private static Tensor Rand(ulong seed, params int[] shape) => GradientCheck.Random(shape, new SeededRandom(seed));

    /// <summary>Values at least 0.1 away from 0, so that x ± h never crosses a kink at 0.</summary>
    private static Tensor AwayFromZero(ulong seed, params int[] shape)
    {
        Tensor t = Rand(seed, shape);
        Span<float> s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] += s[i] >= 0 ? 0.1f : -0.1f;
        return t;
    }

    /// <summary>Softmax input [2, 3, 5] whose row [1, 1, :] is shifted by +50 (the max subtraction must hold).</summary>
    private static Tensor WithShiftedRow(ulong seed)
    {
        Tensor t = Rand(seed, 2, 3, 5);
        for (int j = 0; j < 5; j++) t.Span[(1 * 3 + 1) * 5 + j] += 50f;
        return t;
    }

    /// <summary>Inputs of one LSTM step: x [B, in], h, c [B, H], W_ih [4H, in], W_hh [4H, H], b_ih, b_hh [4H].</summary>
    private static Tensor[] LstmInputs(int batch, int inF, int hidden, ulong seed) =>
    [
        Rand(seed, batch, inF), Rand(seed + 1, batch, hidden), Rand(seed + 2, batch, hidden),
        GradientCheck.Random([4 * hidden, inF], new SeededRandom(seed + 3), 0.5), GradientCheck.Random([4 * hidden, hidden], new SeededRandom(seed + 4), 0.5),
        Rand(seed + 5, 4 * hidden), Rand(seed + 6, 4 * hidden),
    ];

    private static Tensor BothStates((Tensor H, Tensor C) s) => F.Stack(s.H, s.C);

    private static readonly Dictionary<string, Case> Cases = new()
    {
        ["sigmoid"] = new(xs => F.Sigmoid(xs[0]), [GradientCheck.Random([2, 3, 4], new SeededRandom(31), 2)]),
        ["tanh"] = new(xs => F.Tanh(xs[0]), [GradientCheck.Random([2, 3, 4], new SeededRandom(32), 2)]),
        ["elu alpha 1"] = new(xs => F.Elu(xs[0]), [AwayFromZero(33, 2, 3, 4)]),
        ["elu alpha 0.5"] = new(xs => F.Elu(xs[0], 0.5f), [AwayFromZero(34, 2, 3, 4)]),
        ["selu"] = new(xs => F.Selu(xs[0]), [AwayFromZero(35, 2, 3, 4)]),
        ["silu"] = new(xs => F.Silu(xs[0]), [GradientCheck.Random([2, 3, 4], new SeededRandom(36), 2)]),
        ["crelu on [N, C, H, W]"] = new(xs => F.CRelu(xs[0]), [AwayFromZero(37, 2, 3, 2, 2)]),
        ["crelu on [N, C]"] = new(xs => F.CRelu(xs[0]), [AwayFromZero(38, 3, 4)]),
        ["softmax along the last dim of [2, 3, 5]"] = new(xs => F.Softmax(xs[0]), [Rand(39, 2, 3, 5)]),
        ["softmax with a row shifted by +50"] = new(xs => F.Softmax(xs[0]), [WithShiftedRow(40)], Step: 1e-3),
        ["softmax of a vector"] = new(xs => F.Softmax(xs[0]), [Rand(41, 7)]),

        ["sub"] = new(xs => F.Sub(xs[0], xs[1]), [Rand(42, 3, 4), Rand(43, 3, 4)]),
        ["sub of a tensor from its scaled self"] = new(xs => F.Sub(F.Scale(xs[0], 3f), xs[0]), [Rand(42, 3, 4)]),
        ["mul"] = new(xs => F.Mul(xs[0], xs[1]), [Rand(44, 3, 4), Rand(45, 3, 4)]),
        ["mul of a tensor by itself"] = new(xs => F.Mul(xs[0], xs[0]), [Rand(44, 3, 4)]),
        ["sum"] = new(xs => F.Sum(xs[0]), [Rand(46, 2, 3, 4)]),
        ["narrow dim 0"] = new(xs => F.Narrow(xs[0], 0, 1, 2), [Rand(47, 4, 3, 2)]),
        ["narrow dim 1"] = new(xs => F.Narrow(xs[0], 1, 2, 3), [Rand(48, 2, 6, 2)]),
        ["narrow the last dim, counted from the end"] = new(xs => F.Narrow(xs[0], -1, 1, 2), [Rand(49, 2, 3, 4)]),
        ["two overlapping narrows of one tensor"] = new(xs => F.Add(F.Narrow(xs[0], 1, 0, 3), F.Narrow(xs[0], 1, 1, 3)), [Rand(50, 2, 4)]),
        ["stack with one input twice"] = new(xs => F.Stack(xs[0], xs[1], xs[0]), [Rand(51, 2, 3), Rand(52, 2, 3)]),
        ["embedding with repeated indices, 1-D"] = new(xs => F.Embedding(xs[0], RepeatedIndices), [Rand(53, 7, 4)]),
        ["embedding with indices of shape [2, 4]"] = new(xs => F.Embedding(xs[0], RepeatedIndices, [2, 4]), [Rand(54, 7, 4)]),

        ["lstm cell, composite"] = new(xs => BothStates(F.LstmCell(xs[0], xs[1], xs[2], xs[3], xs[4], xs[5], xs[6])), LstmInputs(3, 5, 4, 60)),
        ["lstm cell, fused"] = new(xs => BothStates(F.LstmCellFused(xs[0], xs[1], xs[2], xs[3], xs[4], xs[5], xs[6])), LstmInputs(3, 5, 4, 60)),
        ["lstm cell, fused, without bias"] = new(xs => BothStates(F.LstmCellFused(xs[0], xs[1], xs[2], xs[3], xs[4], null, null)), LstmInputs(2, 3, 4, 70)[..5]),
        ["lstm cell, fused, only h' used"] = new(xs => F.LstmCellFused(xs[0], xs[1], xs[2], xs[3], xs[4], xs[5], xs[6]).H, LstmInputs(2, 3, 4, 80)),
        ["lstm cell, fused, two steps sharing the weights"] = new(xs =>
        {
            (Tensor h, Tensor c) = F.LstmCellFused(xs[0], xs[1], xs[2], xs[3], xs[4], xs[5], xs[6]);
            return BothStates(F.LstmCellFused(xs[0], h, c, xs[3], xs[4], xs[5], xs[6]));
        }, LstmInputs(2, 4, 4, 90)),
    };

    public static TheoryData<string> Ops() => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(Ops))]
    public void Analytic_gradients_match_central_differences(string op)
    {
        Case c = Cases[op];
        string? diff = GradientCheck.Compare(c.Op, c.Inputs, c.Step);
        Assert.True(diff is null, $"{op}: {diff}");
    }

    // ---- PyTorch's choices where the derivative is not unique ----------------------------------------------

    private static float GradAt(Func<Tensor, Tensor> op, float x)
    {
        Tensor t = Tensor.FromValues([x], 1);
        t.RequiresGrad = true;
        op(t).Backward();
        return t.Grad!.Span[0];
    }

    [Fact]
    public void Selu_derivative_at_exactly_zero_is_scale_times_alpha() =>
        Assert.Equal((float)(F.SeluScale * F.SeluAlpha), GradAt(F.Selu, 0f), 6);

    [Fact]
    public void Elu_derivative_at_exactly_zero_is_alpha() =>
        Assert.Equal(0.5f, GradAt(x => F.Elu(x, 0.5f), 0f), 6);

    [Fact]
    public void CRelu_passes_no_gradient_at_exactly_zero()
    {
        Tensor x = Tensor.FromValues([0f, 2f, -3f], 1, 3);
        x.RequiresGrad = true;
        F.CRelu(x).Backward(Tensor.FromValues([1f, 1f, 1f, 10f, 10f, 10f], 1, 6));
        Assert.Equal([0f, 1f, -10f], x.Grad!.ToArray());
    }

    [Fact]
    public void CRelu_puts_the_negated_channels_after_the_positive_ones()
    {
        Tensor y = F.CRelu(Tensor.FromValues([1f, -2f, 3f, -4f], 1, 2, 2));   // channels [1, -2], [3, -4]
        Assert.Equal([1f, 0f, 3f, 0f, 0f, 2f, 0f, 4f], y.ToArray());
    }

    [Fact]
    public void Sigmoid_and_silu_stay_finite_at_large_magnitudes()
    {
        Tensor x = Tensor.FromValues([-100f, -30f, 30f, 100f], 4);
        Assert.Equal([0f, 0f, 1f, 1f], F.Sigmoid(x).ToArray().Select(v => MathF.Round(v, 6)));
        Assert.All(F.Silu(x).ToArray(), v => Assert.True(float.IsFinite(v)));
        Assert.Equal(100f, F.Silu(x).Span[3], 4);
    }

    [Fact]
    public void Softmax_of_a_row_shifted_by_fifty_equals_the_unshifted_softmax()
    {
        Tensor x = Rand(5, 1, 6);
        Tensor shifted = F.Add(x, Tensor.Full(50f, 1, 6));
        TensorAssert.Close(F.Softmax(shifted).Span, F.Softmax(x).Span, 1e-5, 1e-7);
        Assert.Equal(1.0, F.Softmax(shifted).ToArray().Sum(v => (double)v), 5);
    }

    [Fact]
    public void Embedding_gradient_adds_the_upstream_rows_of_every_repeat()
    {
        Tensor w = Rand(6, 4, 2);
        w.RequiresGrad = true;
        Tensor dy = Tensor.FromValues([1f, 2f, 10f, 20f, 100f, 200f], 3, 2);
        F.Embedding(w, [2, 0, 2]).Backward(dy);
        Assert.Equal([10f, 20f, 0f, 0f, 101f, 202f, 0f, 0f], w.Grad!.ToArray());
    }

    // ---- fused LSTM cell == composite ------------------------------------------------------------------

    [Theory]
    [InlineData(1, 10, 10)]
    [InlineData(3, 12, 16)]
    [InlineData(5, 3, 7)]
    public void Fused_lstm_cell_equals_the_composite_in_values_and_every_gradient(int batch, int inF, int hidden)
    {
        Tensor[] inputs = LstmInputs(batch, inF, hidden, 100);
        Tensor dh = Rand(110, batch, hidden), dc = Rand(111, batch, hidden);
        (Tensor[] Grads, Tensor H, Tensor C) Run(bool fused)
        {
            Tensor[] leaves = inputs.Select(t => { Tensor l = t.Clone(); l.RequiresGrad = true; return l; }).ToArray();
            (Tensor h, Tensor c) = fused
                ? F.LstmCellFused(leaves[0], leaves[1], leaves[2], leaves[3], leaves[4], leaves[5], leaves[6])
                : F.LstmCell(leaves[0], leaves[1], leaves[2], leaves[3], leaves[4], leaves[5], leaves[6]);
            F.Add(F.Sum(F.Mul(h, dh)), F.Sum(F.Mul(c, dc))).Backward();
            return (leaves.Select(l => l.Grad!).ToArray(), h, c);
        }
        var composite = Run(false);
        var fused = Run(true);
        // Both are float32 with the same formulas in a different order of rounding: agreement to a few ulps.
        TensorAssert.Close(fused.H.Span, composite.H.Span, 1e-5, 1e-6, "h'");
        TensorAssert.Close(fused.C.Span, composite.C.Span, 1e-5, 1e-6, "c'");
        string[] names = ["x", "h", "c", "weight_ih", "weight_hh", "bias_ih", "bias_hh"];
        for (int i = 0; i < names.Length; i++) TensorAssert.Close(fused.Grads[i].Span, composite.Grads[i].Span, 1e-5, 1e-6, "grad " + names[i]);
    }

    [Fact]
    public void Fused_lstm_cell_under_no_grad_records_nothing()
    {
        Tensor[] xs = LstmInputs(2, 3, 4, 120);
        foreach (Tensor t in xs) t.RequiresGrad = true;
        using var _ = GradMode.NoGrad();
        (Tensor h, Tensor c) = F.LstmCellFused(xs[0], xs[1], xs[2], xs[3], xs[4], xs[5], xs[6]);
        Assert.False(h.RequiresGrad);
        Assert.False(c.RequiresGrad);
    }

    // ---- the LSTM layer as a whole -----------------------------------------------------------------------

    [Fact]
    public void Lstm_over_a_sequence_has_gradients_equal_to_finite_differences_for_inputs_state_and_parameters()
    {
        var lstm = new Lstm(3, 4);
        lstm.Initialize(new SeededRandom(130));
        Tensor input = Rand(131, 3, 2, 3), h0 = Rand(132, 1, 2, 4), c0 = Rand(133, 1, 2, 4);
        Tensor rOut = Rand(134, 3, 2, 4), rH = Rand(135, 1, 2, 4), rC = Rand(136, 1, 2, 4);
        Tensor Loss(LstmOutput o) => F.Add(F.Add(F.Sum(F.Mul(o.Output, rOut)), F.Sum(F.Mul(o.Last.H, rH))), F.Sum(F.Mul(o.Last.C, rC)));

        foreach (Tensor t in new[] { input, h0, c0 }) t.RequiresGrad = true;
        Loss(lstm.Forward(input, new LstmState(h0, c0))).Backward();
        double Numeric()
        {
            using var _ = GradMode.NoGrad();
            return Loss(lstm.Forward(input, new LstmState(h0, c0))).Item();
        }

        var leaves = new List<(string Name, Tensor T)> { ("input", input), ("h0", h0), ("c0", c0) };
        leaves.AddRange(lstm.NamedParameters());
        Assert.Equal(7, leaves.Count);
        var failures = new List<string>();
        foreach ((string name, Tensor t) in leaves)
        {
            double[] numeric = Enumerable.Range(0, t.Size).Select(j => GradientCheck.Central(t, j, Numeric, 1e-2)).ToArray();
            string? diff = GradientCheck.Judge(t.Grad!.Span, numeric);
            if (diff is not null) failures.Add($"{name}: {diff}");
        }
        Assert.True(failures.Count == 0, string.Join("; ", failures));
    }

    [Fact]
    public void Lstm_layer_equals_its_cell_unrolled_by_hand()
    {
        var lstm = new Lstm(3, 5);
        lstm.Initialize(new SeededRandom(140));
        Tensor input = Rand(141, 4, 2, 3);
        LstmOutput o = lstm.Forward(input);

        Tensor h = Tensor.Zeros(2, 5), c = Tensor.Zeros(2, 5);
        for (int t = 0; t < 4; t++)
        {
            (h, c) = F.LstmCell(F.Reshape(F.Narrow(input, 0, t, 1), 2, 3), h, c, lstm.WeightIh, lstm.WeightHh, lstm.BiasIh, lstm.BiasHh);
            TensorAssert.Close(F.Narrow(o.Output, 0, t, 1).Span, h.Span, 1e-5, 1e-6, $"output[{t}]");
        }
        TensorAssert.Close(o.Last.H.Span, h.Span, 1e-5, 1e-6, "h_n");
        TensorAssert.Close(o.Last.C.Span, c.Span, 1e-5, 1e-6, "c_n");
        Assert.Equal([1, 2, 5], o.Last.H.ShapeArray);
    }

    // ---- modules: PyTorch's names, shapes and initialisation ----------------------------------------------

    [Fact]
    public void LstmCell_parameters_have_PyTorchs_names_and_shapes()
    {
        var cell = new LstmCell(6, 5);
        Assert.Equal(["weight_ih [20, 6]", "weight_hh [20, 5]", "bias_ih [20]", "bias_hh [20]"],
            cell.NamedParameters().Select(p => $"{p.Name} {p.Tensor.ShapeString}"));
        Assert.Equal(["weight_ih", "weight_hh"], new LstmCell(6, 5, bias: false).NamedParameters().Select(p => p.Name));
    }

    [Fact]
    public void Lstm_parameters_have_PyTorchs_layer_zero_names_and_shapes()
    {
        var lstm = new Lstm(12, 16);
        Assert.Equal(["weight_ih_l0 [64, 12]", "weight_hh_l0 [64, 16]", "bias_ih_l0 [64]", "bias_hh_l0 [64]"],
            lstm.NamedParameters().Select(p => $"{p.Name} {p.Tensor.ShapeString}"));
    }

    [Fact]
    public void Lstm_initialisation_is_uniform_within_one_over_root_hidden_and_seeded()
    {
        var a = new LstmCell(10, 16);
        a.Initialize(new SeededRandom(7));
        var b = new LstmCell(10, 16);
        b.Initialize(new SeededRandom(7));
        float bound = 1f / MathF.Sqrt(16);
        foreach (((string name, Tensor p), (_, Tensor q)) in a.NamedParameters().Zip(b.NamedParameters()))
        {
            Assert.All(p.ToArray(), v => Assert.InRange(v, -bound, bound));
            Assert.True(p.ToArray().Max() > 0.8f * bound && p.ToArray().Min() < -0.8f * bound, $"{name} does not fill U(±{bound})");
            Assert.Equal(p.ToArray(), q.ToArray());
        }
        Assert.NotEqual(a.WeightIh.ToArray()[..16], a.WeightHh.ToArray()[..16]);
    }

    [Fact]
    public void Embedding_module_starts_standard_normal_and_looks_up_rows()
    {
        var table = new Embedding(50, 20);
        table.Initialize(new SeededRandom(8));
        float[] w = table.Weight.ToArray();
        double mean = w.Average(), std = Math.Sqrt(w.Average(v => (v - mean) * (v - mean)));
        Assert.InRange(mean, -0.1, 0.1);
        Assert.InRange(std, 0.9, 1.1);
        Tensor y = table.Forward([7, 7, 49], [3]);
        Assert.Equal([3, 20], y.ShapeArray);
        Assert.Equal(w.AsSpan(49 * 20, 20).ToArray(), y.ToArray()[40..]);
        Assert.Equal(["weight"], table.NamedParameters().Select(p => p.Name));
    }
}
