using SharpNas.Engine;
using SharpNas.Engine.IO;
using SharpNas.Engine.Modules;
using SharpNas.Search.Spaces.Epnas;
using SharpNas.Search.Trials;
using SharpNas.Training;

namespace SharpNas.Search.Strategies.Epnas;

/// <summary>
/// Wires the <see cref="EpnasParameterDictionary"/> into child training (paper §3.4): a child starts from the weights
/// the dictionary holds for its (layer, type) keys (<see cref="InitialWeights"/>, handed to the trainer), and after
/// evaluation its trained weights are remembered (<see cref="Remember"/>) and stored at the end of the step
/// (<see cref="EndStep"/>), where a clash keeps the more accurate child's.
/// <para><b>Choice — the children of a step all start from the dictionary as it was after the previous step</b>, so
/// their order (or evaluating them in parallel) does not change what they load. Trained weights are read back from
/// each trial's <c>model.safetensors</c> (<see cref="FromRunFolder"/>), so a resumed search rebuilds the same dictionary
/// from the children it recalls from the store.</para>
/// </summary>
public sealed class EpnasParameterSharing<TG> where TG : class, IEpnasGenotype
{
    private readonly InputSpec _input;
    private readonly Func<string, IReadOnlyDictionary<string, Tensor>?> _trainedWeights;
    private readonly List<(TG Child, IReadOnlyDictionary<string, Tensor> Weights, double Accuracy)> _pending = [];

    /// <summary>Sharing for children built for <paramref name="input"/>; <paramref name="trainedWeights"/> gives a trial's
    /// trained state dict by trial key (null when it has none).</summary>
    public EpnasParameterSharing(InputSpec input, Func<string, IReadOnlyDictionary<string, Tensor>?> trainedWeights)
    {
        _input = input;
        _trainedWeights = trainedWeights;
    }

    /// <summary>The dictionary (padding keeps the fresh initialisation: see <see cref="EpnasParameterDictionary.PadWithZeros"/>).</summary>
    public EpnasParameterDictionary Dictionary { get; } = new() { PadWithZeros = false };

    /// <summary>Called when a child is given shared weights: the child and the number of tensors it loads.</summary>
    public event Action<TG, int>? Loaded;

    /// <summary>Reads trained weights from <c>RUN/ARTIFACT_DIR/model.safetensors</c> of the trials in <paramref name="store"/>.</summary>
    public static EpnasParameterSharing<TG> FromRunFolder(InputSpec input, ITrialStore store, string runDir) => new(input, key =>
    {
        string? dir = store.Find(key)?.ArtifactDir;
        string file = dir is null ? "" : Path.Combine(runDir, dir, "model.safetensors");
        return File.Exists(file) ? Safetensors.Load(file).ByName : null;
    });

    /// <summary>The sharing keys of a genotype (module path prefix ↦ (layer, type) key).</summary>
    public IReadOnlyList<(string Prefix, string Key)> Keys(TG genotype) => genotype switch
    {
        EpnasLayerGenotype l => EpnasParameterDictionary.LayerKeys(l),
        EpnasModuleGenotype m => EpnasParameterDictionary.ModuleKeys(m, m.Cells(_input).Count()),
        _ => throw new ArgumentException($"EPNAS sharing: unknown genotype {genotype.GetType().Name}"),
    };

    /// <summary>The weights <paramref name="child"/> starts from: its tensors that the dictionary fills, by full name
    /// (null when none). Outside the stored block a tensor keeps a fixed initialisation derived from the child.</summary>
    public IReadOnlyDictionary<string, Tensor>? InitialWeights(TG child)
    {
        if (Dictionary.Count == 0) return null;
        Module model = child.Build(_input);
        model.Initialize(new SeededRandom(0x5eed).Derive(child.ToJson().ToJsonString()));
        IReadOnlyDictionary<string, Tensor> loaded = Dictionary.LoadInto(model, Keys(child));
        Loaded?.Invoke(child, loaded.Count);
        return loaded.Count == 0 ? null : loaded;
    }

    /// <summary>Remembers the trained weights of trial <paramref name="key"/> (genotype <paramref name="child"/>, validation
    /// accuracy <paramref name="accuracy"/>) for the end of the step; false when the trial has no weights.</summary>
    public bool Remember(string key, TG child, double accuracy)
    {
        IReadOnlyDictionary<string, Tensor>? weights = _trainedWeights(key);
        if (weights is null) return false;
        _pending.Add((child, weights, accuracy));
        return true;
    }

    /// <summary>Stores the remembered children of the step just finished (clash: the more accurate is kept) and starts
    /// the next step.</summary>
    public void EndStep()
    {
        Dictionary.BeginStep();
        foreach ((TG child, IReadOnlyDictionary<string, Tensor> weights, double accuracy) in _pending)
            Dictionary.Store(weights.Select(kv => (kv.Key, kv.Value)), Keys(child), accuracy);
        _pending.Clear();
    }
}
