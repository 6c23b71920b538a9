using SharpNas.Engine.Functional;

namespace SharpNas.Engine.Modules;

/// <summary>The hidden and cell state of an LSTM: [B, H] each for a cell, [1, B, H] each for a one-layer
/// <see cref="Lstm"/> (PyTorch's (num_layers, batch, hidden)).</summary>
public readonly record struct LstmState(Tensor H, Tensor C);

/// <summary>
/// PyTorch's <c>nn.LSTMCell</c>: parameters <c>weight_ih</c> [4H, in], <c>weight_hh</c> [4H, H], <c>bias_ih</c>,
/// <c>bias_hh</c> [4H] (gate rows in the order i, f, g, o), all initialised U(±1/√H) as PyTorch does.
/// <see cref="Forward(Tensor, LstmState)"/> maps x [B, in] and the state ([B, H] each) to the next state, with the
/// fused cell op (<see cref="F.LstmCellFused"/>, tested equal to the composite <see cref="F.LstmCell"/>).
/// </summary>
public sealed class LstmCell : LstmModule<LstmState>
{
    /// <summary>Creates the cell (parameters are set by <see cref="Module.Initialize"/>).</summary>
    public LstmCell(int inputSize, int hiddenSize, bool bias = true) : base("LstmCell", "", inputSize, hiddenSize, bias) { }

    /// <summary>One step: x [B, in], state ([B, H], [B, H]) → next state.</summary>
    public override LstmState Forward(Tensor x, LstmState state)
    {
        (Tensor h, Tensor c) = F.LstmCellFused(x, state.H, state.C, WeightIh, WeightHh, BiasIh, BiasHh);
        return new LstmState(h, c);
    }

    /// <summary>One step from the zero state.</summary>
    public LstmState Forward(Tensor x) =>
        Forward(x, new LstmState(Tensor.Zeros(x.Rank == 2 ? x.Dim(0) : 0, HiddenSize), Tensor.Zeros(x.Rank == 2 ? x.Dim(0) : 0, HiddenSize)));
}
