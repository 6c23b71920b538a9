namespace SharpNas.Engine.Modules;

/// <summary>
/// What <see cref="LstmCell"/> and <see cref="Lstm"/> share: the parameters <c>weight_ih</c> [4H, in],
/// <c>weight_hh</c> [4H, H], <c>bias_ih</c>, <c>bias_hh</c> [4H] (gate rows in the order i, f, g, o; PyTorch's names,
/// with a suffix such as <c>_l0</c> for a layer), all initialised U(±1/√H) as PyTorch does, each from its own named
/// stream.
/// </summary>
public abstract class LstmModule<TOut> : Module<Tensor, LstmState, TOut>
{
    private readonly string _suffix;

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

    /// <summary>Registers the parameters (set by <see cref="Module.Initialize"/>), named with
    /// <paramref name="suffix"/>; <paramref name="kind"/> names the module in errors.</summary>
    private protected LstmModule(string kind, string suffix, int inputSize, int hiddenSize, bool bias)
    {
        if (inputSize <= 0 || hiddenSize <= 0)
            throw new ArgumentException($"{kind}: sizes must be positive, got input {inputSize}, hidden {hiddenSize}");
        _suffix = suffix;
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        WeightIh = RegisterParameter("weight_ih" + suffix, Tensor.Zeros(4 * hiddenSize, inputSize));
        WeightHh = RegisterParameter("weight_hh" + suffix, Tensor.Zeros(4 * hiddenSize, hiddenSize));
        if (bias)
        {
            BiasIh = RegisterParameter("bias_ih" + suffix, Tensor.Zeros(4 * hiddenSize));
            BiasHh = RegisterParameter("bias_hh" + suffix, Tensor.Zeros(4 * hiddenSize));
        }
    }

    /// <inheritdoc/>
    protected override void ResetParameters(SeededRandom rng)
    {
        double bound = 1.0 / Math.Sqrt(HiddenSize);
        Init.Uniform(WeightIh, bound, rng.Derive("weight_ih" + _suffix));
        Init.Uniform(WeightHh, bound, rng.Derive("weight_hh" + _suffix));
        if (BiasIh is not null) Init.Uniform(BiasIh, bound, rng.Derive("bias_ih" + _suffix));
        if (BiasHh is not null) Init.Uniform(BiasHh, bound, rng.Derive("bias_hh" + _suffix));
    }
}
