using SharpNas.Engine.Modules;

namespace SharpNas.Search.Export;

/// <summary>
/// Writes the ONNX nodes of one module type. The exporter walks the module tree from the root: each emitter receives
/// its module, the module's state-dict path, the names of the values it reads (as many as its <c>Forward</c> takes) and
/// an optional configuration from its parent, adds its nodes to <see cref="OnnxEmitContext.Graph"/> — emitting its
/// children through <see cref="OnnxEmitContext.Emit"/> — and returns the name of its output value.
/// <para>Modules whose <c>Forward</c> depends on settings they do not expose (a NASNet pooling op's kind, whether a
/// factorized reduction starts with ReLU, an EPNAS layer's genotype) get them as the configuration from the emitter of
/// the module that built them, which knows its genotype; an emitter missing its configuration fails naming the module.</para>
/// </summary>
public interface IOnnxEmitter
{
    /// <summary>The exact module type this emitter writes.</summary>
    Type ModuleType { get; }

    /// <summary>Adds the nodes of <paramref name="module"/> (at <paramref name="path"/>) reading <paramref name="inputs"/>;
    /// returns the name of its output value.</summary>
    string Emit(OnnxEmitContext context, Module module, string path, IReadOnlyList<string> inputs, object? config);
}

/// <summary>An emitter for modules of type <typeparamref name="TModule"/>.</summary>
public abstract class OnnxEmitter<TModule> : IOnnxEmitter where TModule : Module
{
    /// <inheritdoc/>
    public Type ModuleType => typeof(TModule);

    /// <summary>How many input values the module reads at most (its <c>Forward</c>'s arity).</summary>
    protected virtual int Arity => 1;

    /// <summary>How many input values the module reads at least (fewer than <see cref="Arity"/> when some are optional).</summary>
    protected virtual int MinArity => Arity;

    string IOnnxEmitter.Emit(OnnxEmitContext context, Module module, string path, IReadOnlyList<string> inputs, object? config)
    {
        if (inputs.Count < MinArity || inputs.Count > Arity)
            throw new InvalidOperationException($"export --onnx: {typeof(TModule).Name} at \"{path}\" reads {MinArity}..{Arity} value(s), its parent gave {inputs.Count}");
        return Emit(context, (TModule)module, path, inputs, config);
    }

    /// <summary>Adds the module's nodes; see <see cref="IOnnxEmitter.Emit"/>.</summary>
    protected abstract string Emit(OnnxEmitContext context, TModule module, string path, IReadOnlyList<string> inputs, object? config);

    /// <summary>The configuration a parent must pass, or an error naming the module.</summary>
    protected static TConfig Need<TConfig>(object? config, string path) => config is TConfig c ? c
        : throw new InvalidOperationException($"export --onnx: {typeof(TModule).Name} at \"{path}\" needs a {typeof(TConfig).Name} from its parent's emitter, got {config?.GetType().Name ?? "none"}");
}

/// <summary>
/// The state of one export: the graph, the architecture and input it was built for, the emitters by module type,
/// and which modules have been written (at the end every module of the tree must have been emitted, handled inline by
/// its parent, or deliberately dropped, so no part of the network is silently left out).
/// </summary>
public sealed class OnnxEmitContext
{
    private readonly OnnxEmitterSet _emitters;
    private readonly HashSet<string> _covered = [];
    private readonly List<string> _dropped = [];

    internal OnnxEmitContext(OnnxGraph graph, OnnxEmitterSet emitters, Training.IArchitecture architecture, Training.InputSpec input)
    {
        Graph = graph;
        _emitters = emitters;
        Architecture = architecture;
        Input = input;
    }

    /// <summary>The graph being written.</summary>
    public OnnxGraph Graph { get; }

    /// <summary>The architecture (genotype) being exported.</summary>
    public Training.IArchitecture Architecture { get; }

    /// <summary>The input the network was built for.</summary>
    public Training.InputSpec Input { get; }

    /// <summary>Emits <paramref name="module"/> with the emitter of its exact type; a type without one is an error
    /// naming it and its path.</summary>
    public string Emit(Module module, string path, IReadOnlyList<string> inputs, object? config = null)
    {
        IOnnxEmitter emitter = _emitters.Find(module.GetType())
            ?? throw new NotSupportedException($"export --onnx: module {module.GetType().Name} at \"{(path.Length == 0 ? "(root)" : path)}\" has no ONNX emitter " +
                $"(in {Architecture.Describe()}); exportable modules: {string.Join(", ", _emitters.TypeNames)}");
        _covered.Add(path);
        return emitter.Emit(this, module, path, inputs, config);
    }

    /// <summary>Emits the child <paramref name="name"/> of <paramref name="parent"/> (at <paramref name="parentPath"/>).</summary>
    public string EmitChild(Module parent, string parentPath, string name, IReadOnlyList<string> inputs, object? config = null) =>
        Emit(Child<Module>(parent, parentPath, name), Join(parentPath, name), inputs, config);

    /// <summary>Emits the child <paramref name="name"/> when <paramref name="parent"/> has one, else returns <paramref name="input"/>.</summary>
    public string EmitChildOrPass(Module parent, string parentPath, string name, string input, object? config = null) =>
        FindChild(parent, name) is null ? input : EmitChild(parent, parentPath, name, [input], config);

    /// <summary>Marks a module whose nodes its parent wrote itself (a private helper type, or a container of
    /// children emitted one by one).</summary>
    public void Handled(string path) => _covered.Add(path);

    /// <summary>Marks a module and everything below it as deliberately left out of the inference graph
    /// (e.g. NASNet's auxiliary head).</summary>
    public void Drop(string path) => _dropped.Add(path);

    /// <summary>The child <paramref name="name"/> of <paramref name="parent"/> as a <typeparamref name="T"/>, or an error.</summary>
    public static T Child<T>(Module parent, string parentPath, string name) where T : Module =>
        FindChild(parent, name) switch
        {
            T t => t,
            null => throw new InvalidDataException($"export --onnx: {parent.GetType().Name} at \"{parentPath}\" has no child \"{name}\""),
            Module m => throw new InvalidDataException($"export --onnx: child \"{Join(parentPath, name)}\" is a {m.GetType().Name}, expected {typeof(T).Name}"),
        };

    /// <summary>The child <paramref name="name"/> of <paramref name="parent"/>, or null.</summary>
    public static Module? FindChild(Module parent, string name)
    {
        foreach ((string n, Module m) in parent.NamedChildren()) if (n == name) return m;
        return null;
    }

    /// <summary>"a.b" from "a" and "b" ("b" when the parent is the root).</summary>
    public static string Join(string parentPath, string name) => parentPath.Length == 0 ? name : parentPath + "." + name;

    /// <summary>Throws when a module of <paramref name="root"/> was neither emitted, handled nor dropped.</summary>
    internal void CheckCovered(Module root)
    {
        bool IsDropped(string p) => _dropped.Exists(d => p == d || p.StartsWith(d + ".", StringComparison.Ordinal));
        var missed = root.NamedModules().Where(m => !_covered.Contains(m.Path) && !IsDropped(m.Path))
            .Select(m => $"{m.Module.GetType().Name} at \"{m.Path}\"").ToList();
        if (missed.Count > 0)
            throw new NotSupportedException($"export --onnx: {missed.Count} module(s) of {Architecture.Describe()} were not written by any emitter: {string.Join(", ", missed.Take(8))}");
    }
}

/// <summary>An immutable set of emitters keyed by module type; <see cref="Default"/> holds every module the searches
/// build, <see cref="With"/> adds or replaces one.</summary>
public sealed class OnnxEmitterSet
{
    private readonly Dictionary<Type, IOnnxEmitter> _byType;

    private OnnxEmitterSet(Dictionary<Type, IOnnxEmitter> byType) => _byType = byType;

    /// <summary>No emitters.</summary>
    public static OnnxEmitterSet Empty { get; } = new([]);

    /// <summary>The emitters of SharpNas's own modules (engine layers, ResNets, NASNet, EPNAS).</summary>
    public static OnnxEmitterSet Default { get; } = Empty.With(
        EngineEmitters.All.Concat(NasNetEmitters.All).Concat(EpnasEmitters.All).ToArray());

    /// <summary>This set plus <paramref name="emitters"/> (replacing any for the same type).</summary>
    public OnnxEmitterSet With(params IOnnxEmitter[] emitters)
    {
        var copy = new Dictionary<Type, IOnnxEmitter>(_byType);
        foreach (IOnnxEmitter e in emitters) copy[e.ModuleType] = e;
        return new OnnxEmitterSet(copy);
    }

    /// <summary>The emitter of exactly <paramref name="type"/>, or null.</summary>
    public IOnnxEmitter? Find(Type type) => _byType.GetValueOrDefault(type);

    /// <summary>Names of the types that have an emitter, sorted.</summary>
    public IEnumerable<string> TypeNames => _byType.Keys.Select(t => t.Name).Order(StringComparer.Ordinal);
}

/// <summary>An emitter written as one function (most module types need only a few lines).</summary>
public sealed class FuncOnnxEmitter<TModule>(Func<OnnxEmitContext, TModule, string, IReadOnlyList<string>, object?, string> emit, int arity = 1,
    int? minArity = null) : OnnxEmitter<TModule> where TModule : Module
{
    /// <inheritdoc/>
    protected override int Arity => arity;

    /// <inheritdoc/>
    protected override int MinArity => minArity ?? arity;

    /// <inheritdoc/>
    protected override string Emit(OnnxEmitContext context, TModule module, string path, IReadOnlyList<string> inputs, object? config) =>
        emit(context, module, path, inputs, config);

    /// <summary>The configuration a parent must pass, or an error naming the module.</summary>
    public static TConfig Config<TConfig>(object? config, string path) => Need<TConfig>(config, path);
}
