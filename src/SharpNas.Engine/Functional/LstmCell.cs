namespace SharpNas.Engine.Functional;

// One step of PyTorch's LSTM cell, composed from primitives (Linear, Narrow, Sigmoid, Tanh, Mul, Add), so that its
// backward is the sum of theirs. Shapes: x [B, in], h and c [B, H], weightIh [4H, in], weightHh [4H, H],
// biasIh and biasHh [4H] (or both null); returns h' and c' [B, H].
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
}
