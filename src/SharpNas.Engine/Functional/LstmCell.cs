using System.Numerics.Tensors;
using SharpNas.Engine.Autograd;
using SharpNas.Engine.Kernels;

namespace SharpNas.Engine.Functional;

// One step of PyTorch's LSTM cell, twice: LstmCell composes it from primitives (Linear, Narrow, Sigmoid, Tanh, Mul,
// Add), so that its backward is the sum of theirs and it serves as the oracle; LstmCellFused computes the same in one
// node (two GEMMs for the gates, one pass for the state) and is tested equal to it, values and gradients.
// Shapes: x [B, in], h and c [B, H], weightIh [4H, in], weightHh [4H, H], biasIh and biasHh [4H] (or both null);
// returns h' and c' [B, H].
public static partial class F
{
    /// <summary>
    /// One LSTM step with PyTorch's equations and gate order i, f, g, o: gates = x·Wᵢₕᵀ + bᵢₕ + h·Wₕₕᵀ + bₕₕ;
    /// i, f, o = sigmoid, g = tanh of the four H-wide column blocks; c' = f·c + i·g; h' = o·tanh(c').
    /// Both biases are added as they are (no forget-gate offset).
    /// </summary>
    public static (Tensor H, Tensor C) LstmCell(Tensor x, Tensor h, Tensor c, Tensor weightIh, Tensor weightHh, Tensor? biasIh, Tensor? biasHh)
    {
        int hidden = CheckLstmCell(x, h, c, weightIh, weightHh, biasIh, biasHh);
        Tensor gates = Add(Linear(x, weightIh, biasIh), Linear(h, weightHh, biasHh));
        Tensor i = Sigmoid(Narrow(gates, 1, 0, hidden));
        Tensor f = Sigmoid(Narrow(gates, 1, hidden, hidden));
        Tensor g = Tanh(Narrow(gates, 1, 2 * hidden, hidden));
        Tensor o = Sigmoid(Narrow(gates, 1, 3 * hidden, hidden));
        Tensor cNext = Add(Mul(f, c), Mul(i, g));
        Tensor hNext = Mul(o, Tanh(cNext));
        return (hNext, cNext);
    }

    /// <summary>Validates the operands of an LSTM step and returns the hidden size H.</summary>
    private static int CheckLstmCell(Tensor x, Tensor h, Tensor c, Tensor weightIh, Tensor weightHh, Tensor? biasIh, Tensor? biasHh)
    {
        if (weightIh.Rank != 2 || weightIh.Dim(0) % 4 != 0)
            throw new ArgumentException($"LstmCell: weight_ih must be [4H, in], got {weightIh.ShapeString}");
        int hidden = weightIh.Dim(0) / 4, inF = weightIh.Dim(1);
        if (!weightHh.HasShape([4 * hidden, hidden]))
            throw new ArgumentException($"LstmCell: weight_hh {weightHh.ShapeString} does not match weight_ih {weightIh.ShapeString} (need [{4 * hidden}, {hidden}])");
        if ((biasIh is null) != (biasHh is null))
            throw new ArgumentException("LstmCell: give both biases or neither");
        if (biasIh is not null && (!biasIh.HasShape([4 * hidden]) || !biasHh!.HasShape([4 * hidden])))
            throw new ArgumentException($"LstmCell: biases {biasIh.ShapeString} and {biasHh!.ShapeString} must be [{4 * hidden}]");
        if (x.Rank != 2 || x.Dim(1) != inF)
            throw new ArgumentException($"LstmCell: input {x.ShapeString} does not match weight_ih {weightIh.ShapeString} (need [B, {inF}])");
        int batch = x.Dim(0);
        if (!h.HasShape([batch, hidden]) || !c.HasShape([batch, hidden]))
            throw new ArgumentException($"LstmCell: state h {h.ShapeString} and c {c.ShapeString} must both be [{batch}, {hidden}] for input {x.ShapeString}");
        return hidden;
    }

    /// <summary>The same step as <see cref="LstmCell"/> in one graph node: gates by two GEMMs, activations and the
    /// new state in one pass; the backward forms dGates once and sends it through two GEMMs per weight.</summary>
    public static (Tensor H, Tensor C) LstmCellFused(Tensor x, Tensor h, Tensor c, Tensor weightIh, Tensor weightHh, Tensor? biasIh, Tensor? biasHh)
    {
        int hidden = CheckLstmCell(x, h, c, weightIh, weightHh, biasIh, biasHh);
        int batch = x.Dim(0), inF = x.Dim(1), g4 = 4 * hidden;

        // act [B, 4H]: gates, then in place i, f, g, o after their activations (kept for backward).
        Tensor act = Tensor.Empty(batch, g4);
        Span<float> a = act.Span;
        if (biasIh is not null)
        {
            for (int b = 0; b < batch; b++) TensorPrimitives.Add(biasIh.Span, biasHh!.Span, a.Slice(b * g4, g4));
        }
        KernelSet k = KernelSet.Active;
        k.Gemm(false, true, batch, g4, inF, x.Span, inF, weightIh.Span, inF, a, g4, accumulate: biasIh is not null);
        k.Gemm(false, true, batch, g4, hidden, h.Span, hidden, weightHh.Span, hidden, a, g4, accumulate: true);

        // state [B, 2H] = [h' | c'] (one node has one output; Narrow hands out the halves); tanhC [B, H] for backward.
        Tensor state = Tensor.Empty(batch, 2 * hidden), tanhC = Tensor.Empty(batch, hidden);
        for (int b = 0; b < batch; b++)
        {
            Span<float> row = a.Slice(b * g4, g4);
            TensorPrimitives.Sigmoid(row[..(2 * hidden)], row[..(2 * hidden)]);   // i, f
            TensorPrimitives.Tanh(row.Slice(2 * hidden, hidden), row.Slice(2 * hidden, hidden));   // g
            TensorPrimitives.Sigmoid(row.Slice(3 * hidden, hidden), row.Slice(3 * hidden, hidden));   // o
            ReadOnlySpan<float> cPrev = c.Span.Slice(b * hidden, hidden);
            Span<float> hOut = state.Span.Slice(b * 2 * hidden, hidden), cOut = state.Span.Slice(b * 2 * hidden + hidden, hidden);
            Span<float> tc = tanhC.Span.Slice(b * hidden, hidden);
            for (int j = 0; j < hidden; j++)
            {
                cOut[j] = row[hidden + j] * cPrev[j] + row[j] * row[2 * hidden + j];
                tc[j] = MathF.Tanh(cOut[j]);
                hOut[j] = row[3 * hidden + j] * tc[j];
            }
        }
        Tensor[] inputs = biasIh is null ? [x, h, c, weightIh, weightHh] : [x, h, c, weightIh, weightHh, biasIh, biasHh!];
        if (GradMode.ShouldRecord(inputs)) GradMode.Record(state, new LstmCellNode(act, tanhC, hidden), inputs);
        return (Narrow(state, 1, 0, hidden), Narrow(state, 1, hidden, hidden));
    }

    private sealed class LstmCellNode(Tensor act, Tensor tanhC, int hidden) : Node
    {
        public override string Op => "LstmCellFused";

        public override void Backward(Tensor output, Tensor dy)
        {
            // Per element, with dh', dc' the two halves of dy:
            //   dcTotal = dc' + dh'·o·(1 − tanh²c')      dc += dcTotal·f
            //   dGates = [dcTotal·g·i(1−i), dcTotal·c·f(1−f), dcTotal·i·(1−g²), dh'·tanh c'·o(1−o)]
            // then dx += dGates·Wᵢₕ, dh += dGates·Wₕₕ, dWᵢₕ += dGatesᵀ·x, dWₕₕ += dGatesᵀ·h, db += Σ_B dGates.
            Tensor x = Inputs[0], h = Inputs[1], c = Inputs[2], wIh = Inputs[3], wHh = Inputs[4];
            int batch = x.Dim(0), inF = x.Dim(1), g4 = 4 * hidden;
            Tensor dGates = Tensor.Empty(batch, g4);
            Span<float> dg = dGates.Span;
            ReadOnlySpan<float> a = act.Span, d = dy.Span, tcs = tanhC.Span, cs = c.Span;
            Span<float> dc = c.RequiresGrad ? c.GradSpanForAccumulation() : default;
            for (int b = 0; b < batch; b++)
            {
                ReadOnlySpan<float> row = a.Slice(b * g4, g4), dh = d.Slice(b * 2 * hidden, hidden), dcNext = d.Slice(b * 2 * hidden + hidden, hidden);
                ReadOnlySpan<float> tc = tcs.Slice(b * hidden, hidden), cPrev = cs.Slice(b * hidden, hidden);
                Span<float> dRow = dg.Slice(b * g4, g4);
                for (int j = 0; j < hidden; j++)
                {
                    float i = row[j], f = row[hidden + j], g = row[2 * hidden + j], o = row[3 * hidden + j];
                    float dcTotal = dcNext[j] + dh[j] * o * (1f - tc[j] * tc[j]);
                    dRow[j] = dcTotal * g * i * (1f - i);
                    dRow[hidden + j] = dcTotal * cPrev[j] * f * (1f - f);
                    dRow[2 * hidden + j] = dcTotal * i * (1f - g * g);
                    dRow[3 * hidden + j] = dh[j] * tc[j] * o * (1f - o);
                    if (c.RequiresGrad) dc[b * hidden + j] += dcTotal * f;
                }
            }
            KernelSet k = KernelSet.Active;
            if (x.RequiresGrad) k.Gemm(false, false, batch, inF, g4, dg, g4, wIh.Span, inF, x.GradSpanForAccumulation(), inF, true);
            if (h.RequiresGrad) k.Gemm(false, false, batch, hidden, g4, dg, g4, wHh.Span, hidden, h.GradSpanForAccumulation(), hidden, true);
            if (wIh.RequiresGrad) k.Gemm(true, false, g4, inF, batch, dg, g4, x.Span, inF, wIh.GradSpanForAccumulation(), inF, true);
            if (wHh.RequiresGrad) k.Gemm(true, false, g4, hidden, batch, dg, g4, h.Span, hidden, wHh.GradSpanForAccumulation(), hidden, true);
            for (int bi = 5; bi < Inputs.Length; bi++)
                if (Inputs[bi].RequiresGrad) SumPerChannel(dg, batch, g4, 1, Inputs[bi].GradSpanForAccumulation());
        }
    }
}
