namespace SharpNas.Engine.Modules;

/// <summary>
/// A holder of parameters, buffers and child modules, registered explicitly and named by dot paths exactly as
/// PyTorch names them (<c>layer1.0.conv1.weight</c>), so that state dicts and safetensors files map one to one.
/// Train/eval mode lives on the module tree. Parameters are initialised by <see cref="Initialize"/>, which gives
/// each module a random stream derived from the run's seed and the module's path.
/// </summary>
public abstract class Module
{
    private readonly List<(string Name, Tensor Tensor)> _parameters = [];
    private readonly List<(string Name, Tensor Tensor, bool Persistent)> _buffers = [];
    private readonly List<(string Name, Module Module)> _children = [];

    /// <summary>True in training mode (the default), false in evaluation mode.</summary>
    public bool Training { get; private set; } = true;

    /// <summary>Registers a learnable tensor under <paramref name="name"/>; it then requires grad.</summary>
    protected Tensor RegisterParameter(string name, Tensor tensor)
    {
        CheckName(name);
        tensor.RequiresGrad = true;
        tensor.Name ??= name;
        _parameters.Add((name, tensor));
        return tensor;
    }

    /// <summary>Registers non-learnable state (e.g. running statistics); persistent buffers are saved in the state dict.</summary>
    protected Tensor RegisterBuffer(string name, Tensor tensor, bool persistent = true)
    {
        CheckName(name);
        tensor.Name ??= name;
        _buffers.Add((name, tensor, persistent));
        return tensor;
    }

    /// <summary>Registers a child module under <paramref name="name"/>.</summary>
    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        CheckName(name);
        _children.Add((name, module));
        return module;
    }

    private void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.'))
            throw new ArgumentException($"{GetType().Name}: a registered name must be non-empty and have no dot, got \"{name}\"");
        if (_parameters.Exists(p => p.Name == name) || _buffers.Exists(b => b.Name == name) || _children.Exists(c => c.Name == name))
            throw new ArgumentException($"{GetType().Name}: \"{name}\" is already registered");
    }

    /// <summary>Direct children in registration order.</summary>
    public IEnumerable<(string Name, Module Module)> NamedChildren() => _children;

    /// <summary>Every module below and including this one, with its dot path ("" for this one).</summary>
    public IEnumerable<(string Path, Module Module)> NamedModules(string prefix = "")
    {
        yield return (prefix, this);
        foreach ((string name, Module child) in _children)
            foreach (var m in child.NamedModules(prefix.Length == 0 ? name : prefix + "." + name)) yield return m;
    }

    /// <summary>All parameters with their dot paths, in PyTorch's order.</summary>
    public IEnumerable<(string Name, Tensor Tensor)> NamedParameters()
    {
        foreach ((string path, Module m) in NamedModules())
            foreach ((string name, Tensor t) in m._parameters) yield return (Join(path, name), t);
    }

    /// <summary>All parameters.</summary>
    public IEnumerable<Tensor> Parameters() => NamedParameters().Select(p => p.Tensor);

    /// <summary>All buffers with their dot paths.</summary>
    public IEnumerable<(string Name, Tensor Tensor)> NamedBuffers(bool persistentOnly = false)
    {
        foreach ((string path, Module m) in NamedModules())
            foreach ((string name, Tensor t, bool persistent) in m._buffers)
                if (persistent || !persistentOnly) yield return (Join(path, name), t);
    }

    /// <summary>Parameters and persistent buffers by dot path, in PyTorch's <c>state_dict</c> order
    /// (per module: its parameters, then its buffers, then its children).</summary>
    public IReadOnlyList<(string Name, Tensor Tensor)> StateDict()
    {
        var result = new List<(string, Tensor)>();
        foreach ((string path, Module m) in NamedModules())
        {
            foreach ((string name, Tensor t) in m._parameters) result.Add((Join(path, name), t));
            foreach ((string name, Tensor t, bool persistent) in m._buffers) if (persistent) result.Add((Join(path, name), t));
        }
        return result;
    }

    /// <summary>
    /// Copies values into this module's parameters and persistent buffers. Every problem — missing names,
    /// unexpected names (when <paramref name="strict"/>), shape mismatches — is collected and reported in one
    /// exception. PyTorch's <c>num_batches_tracked</c> entries are accepted and ignored.
    /// </summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state, bool strict = true)
    {
        var problems = new List<string>();
        var seen = new HashSet<string>();
        foreach ((string name, Tensor target) in StateDict())
        {
            if (!state.TryGetValue(name, out Tensor? source)) { problems.Add($"missing {name} {target.ShapeString}"); continue; }
            seen.Add(name);
            if (!source.HasShape(target.Shape)) problems.Add($"{name}: file has {source.ShapeString}, model has {target.ShapeString}");
        }
        if (strict)
            foreach (string name in state.Keys)
                if (!seen.Contains(name) && !name.EndsWith("num_batches_tracked", StringComparison.Ordinal))
                    problems.Add($"unexpected {name} {state[name].ShapeString}");
        if (problems.Count > 0)
            throw new InvalidDataException($"LoadStateDict into {GetType().Name}: {problems.Count} mismatch(es): {string.Join("; ", problems)}");
        foreach ((string name, Tensor target) in StateDict())
            if (state.TryGetValue(name, out Tensor? source)) target.CopyFrom(source);
    }

    /// <summary>Sets training (true) or evaluation (false) mode on this module and all below it.</summary>
    public void Train(bool mode = true)
    {
        foreach ((_, Module m) in NamedModules()) m.Training = mode;
    }

    /// <summary>Evaluation mode (<c>Train(false)</c>).</summary>
    public void Eval() => Train(false);

    /// <summary>Forgets the gradients of all parameters.</summary>
    public void ZeroGrad()
    {
        foreach (Tensor p in Parameters()) p.Grad?.Span.Clear();
    }

    /// <summary>Initialises every module's parameters from <paramref name="rng"/>: each module draws from a stream
    /// derived from the seed and its path, so the result does not depend on construction order.</summary>
    public void Initialize(SeededRandom rng)
    {
        foreach ((string path, Module m) in NamedModules()) m.ResetParameters(rng.Derive("init/" + path));
    }

    /// <summary>Sets this module's own parameters to their initial values (children are handled by <see cref="Initialize"/>).</summary>
    protected virtual void ResetParameters(SeededRandom rng) { }

    /// <summary>Number of trainable parameter values.</summary>
    public long ParameterCount() => Parameters().Sum(p => (long)p.Size);

    private static string Join(string path, string name) => path.Length == 0 ? name : path + "." + name;
}

/// <summary>A module with a typed forward pass.</summary>
public abstract class Module<TIn, TOut> : Module
{
    /// <summary>The computation.</summary>
    public abstract TOut Forward(TIn input);
}

/// <summary>A module taking two inputs (e.g. a NASNet cell reading the two previous hidden states).</summary>
public abstract class Module<TIn1, TIn2, TOut> : Module
{
    /// <summary>The computation.</summary>
    public abstract TOut Forward(TIn1 input1, TIn2 input2);
}

/// <summary>Helpers for forward passes that release their intermediates.</summary>
public static class ModuleExtensions
{
    /// <summary><c>layer.Forward(x)</c>, then <c>x.Release(result)</c>: for an intermediate <paramref name="x"/> that the
    /// calling module created itself and that nothing reads after <paramref name="layer"/>. Without autograd its buffer
    /// goes back to the step's pool at once; otherwise (and for views, inputs the layer returned, …) it is kept as
    /// <see cref="Tensor.Release"/> describes.</summary>
    public static Tensor ForwardReleasing(this Module<Tensor, Tensor> layer, Tensor x)
    {
        ArgumentNullException.ThrowIfNull(layer);
        Tensor y = layer.Forward(x);
        x.Release(y);
        return y;
    }
}
