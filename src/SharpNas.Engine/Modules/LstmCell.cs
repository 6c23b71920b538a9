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
public sealed class LstmCell : Module<Tensor, LstmState, LstmState>
{
    /// <summary>[4H, in].</summary>
    public Tensor WeightIh { get; }
    /// <summary>[4H, H].</summary>
    public Tensor WeightHh { get; }
    /// <summary>[4H], or null without bias.</summary>
    public Tensor? BiasIh { get; }
    /// <summary>[4H], or null without bias.</summary>
    public Tensor? BiasHh { get; }
    /// <summary>Input features.</summary>
    public int InputSize { get; }
    /// <summary>H.</summary>
    public int HiddenSize { get; }

    /// <summary>Creates the cell (parameters are set by <see cref="Module.Initialize"/>).</summary>
    public LstmCell(int inputSize, int hiddenSize, bool bias = true)
    {
        if (inputSize <= 0 || hiddenSize <= 0)
            throw new ArgumentException($"LstmCell: sizes must be positive, got input {inputSize}, hidden {hiddenSize}");
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        WeightIh = RegisterParameter("weight_ih", Tensor.Zeros(4 * hiddenSize, inputSize));
        WeightHh = RegisterParameter("weight_hh", Tensor.Zeros(4 * hiddenSize, hiddenSize));
        if (bias)
        {
            BiasIh = RegisterParameter("bias_ih", Tensor.Zeros(4 * hiddenSize));
            BiasHh = RegisterParameter("bias_hh", Tensor.Zeros(4 * hiddenSize));
        }
    }

    /// <inheritdoc/>
    protected override void ResetParameters(SeededRandom rng) =>
        LstmInit.Uniform(rng, HiddenSize, ("weight_ih", WeightIh), ("weight_hh", WeightHh), ("bias_ih", BiasIh), ("bias_hh", BiasHh));

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

/// <summary>PyTorch's LSTM initialisation: every parameter U(±1/√H), each from its own named stream.</summary>
internal static class LstmInit
{
    public static void Uniform(SeededRandom rng, int hidden, params (string Name, Tensor? Tensor)[] parameters)
    {
        double bound = 1.0 / Math.Sqrt(hidden);
        foreach ((string name, Tensor? t) in parameters)
            if (t is not null) Init.Uniform(t, bound, rng.Derive(name));
    }
}
