using SharpNas.Engine.Functional;

namespace SharpNas.Engine.Modules;

/// <summary>What a one-layer <see cref="Lstm"/> returns: the hidden state of every step [T, B, H], and the last
/// state ([1, B, H] each: PyTorch's h_n, c_n).</summary>
public readonly record struct LstmOutput(Tensor Output, LstmState Last);

/// <summary>
/// PyTorch's one-layer, unidirectional, time-major <c>nn.LSTM</c>: parameters <c>weight_ih_l0</c> [4H, in],
/// <c>weight_hh_l0</c> [4H, H], <c>bias_ih_l0</c>, <c>bias_hh_l0</c> [4H] (gate order i, f, g, o), initialised
/// U(±1/√H). <see cref="Forward(Tensor, LstmState)"/> runs input [T, B, in] from (h0, c0) [1, B, H] each, one fused
/// cell step (<see cref="F.LstmCellFused"/>) per time step.
/// </summary>
public sealed class Lstm : LstmModule<LstmOutput>
{
    /// <summary>Creates the layer (parameters are set by <see cref="Module.Initialize"/>).</summary>
    public Lstm(int inputSize, int hiddenSize, bool bias = true) : base("Lstm", "_l0", inputSize, hiddenSize, bias) { }

    /// <summary>Runs the sequence input [T, B, in] (T ≥ 1) from the state (h0, c0) [1, B, H] each.</summary>
    public override LstmOutput Forward(Tensor input, LstmState initial)
    {
        if (input.Rank != 3 || input.Dim(2) != InputSize || input.Dim(0) == 0)
            throw new ArgumentException($"Lstm: input must be [T ≥ 1, B, {InputSize}] (time-major), got {input.ShapeString}");
        int steps = input.Dim(0), batch = input.Dim(1);
        int[] stateShape = [1, batch, HiddenSize];
        if (!initial.H.HasShape(stateShape) || !initial.C.HasShape(stateShape))
            throw new ArgumentException($"Lstm: h0 {initial.H.ShapeString} and c0 {initial.C.ShapeString} must both be {Tensor.Format(stateShape)} for input {input.ShapeString}");
        Tensor h = F.Reshape(initial.H, batch, HiddenSize), c = F.Reshape(initial.C, batch, HiddenSize);
        var outputs = new Tensor[steps];
        for (int t = 0; t < steps; t++)
        {
            Tensor x = F.Reshape(F.Narrow(input, 0, t, 1), batch, InputSize);
            (h, c) = F.LstmCellFused(x, h, c, WeightIh, WeightHh, BiasIh, BiasHh);
            outputs[t] = h;
        }
        return new LstmOutput(F.Stack(outputs), new LstmState(F.Reshape(h, stateShape), F.Reshape(c, stateShape)));
    }

    /// <summary>Runs the sequence from the zero state.</summary>
    public LstmOutput Forward(Tensor input)
    {
        int batch = input.Rank == 3 ? input.Dim(1) : 0;
        return Forward(input, new LstmState(Tensor.Zeros(1, batch, HiddenSize), Tensor.Zeros(1, batch, HiddenSize)));
    }
}
