using System.Globalization;
using SharpNas.Engine;
using SharpNas.Engine.Modules;
using SharpNas.Search.Spaces.Epnas;

namespace SharpNas.Search.Strategies.Epnas;

/// <summary>
/// The parameter-sharing dictionary of EPNAS (paper §3.4), shared by the models of a search: keys are (layer index,
/// operation type), values that layer's tensors (parameters and BN statistics, by their name inside the layer).
/// <list type="bullet">
/// <item>Clash: when two models of the same step store the same key and tensor shape, the more accurate model's values
/// are kept; a store in a later step replaces what earlier steps stored (<see cref="BeginStep"/>).</item>
/// <item>Several shapes per key are kept (a scaled layer's old and new shapes); loading takes the exact shape when
/// stored, otherwise the stored shape closest to the target (smallest Σ|dimension difference|), sliced from the origin
/// or padded in every dimension (<b>Choice</b>: the paper says "spliced or padded" without details). The padding is
/// zeros (<see cref="PadWithZeros"/>, the default) or the target's own values, i.e. its fresh initialisation.</item>
/// </list>
/// Which module path is which key comes from <see cref="LayerKeys"/> / <see cref="ModuleKeys"/>.
/// </summary>
public sealed class EpnasParameterDictionary
{
    private sealed record Entry(Tensor Value, double Accuracy, int Step);

    private readonly Dictionary<(string Key, string Tensor), List<Entry>> _entries = [];

    /// <summary>True: the part of a loaded tensor not covered by the stored one is set to zero; false: it keeps the
    /// target's values (its initialisation). Zero-padded output channels of a conv layer whose BN scale is zero-padded
    /// too get no gradient and stay zero, so a search that trains the loaded networks should use false.</summary>
    public bool PadWithZeros { get; init; } = true;

    /// <summary>The current step (starts at 0).</summary>
    public int Step { get; private set; }

    /// <summary>Number of stored tensors (all keys, names and shapes).</summary>
    public int Count => _entries.Values.Sum(l => l.Count);

    /// <summary>Starts a new step: clashes with entries of earlier steps are won by the new store.</summary>
    public void BeginStep() => Step++;

    /// <summary>The sharing keys of a layer-by-layer network: module path <c>layers.{i}</c> ↦ <c>{i}/{type}</c>.</summary>
    public static IReadOnlyList<(string Prefix, string Key)> LayerKeys(EpnasLayerGenotype g) =>
        g.Layers.Select((l, i) => (string.Create(CultureInfo.InvariantCulture, $"layers.{i}"),
            string.Create(CultureInfo.InvariantCulture, $"{i}/{EpnasTables.Name(l.Type)}"))).ToList();

    /// <summary>The sharing keys of a module network: each branch operation of each cell (<c>cells.{c}.branch_{b}_first</c>
    /// ↦ <c>{c}/{b}/first/{type}</c>) and each cell's preprocessing.</summary>
    public static IReadOnlyList<(string Prefix, string Key)> ModuleKeys(EpnasModuleGenotype g, int cells)
    {
        var keys = new List<(string, string)>();
        for (int c = 0; c < cells; c++)
        {
            keys.Add(($"cells.{c}.preprocess", $"{c}/preprocess"));
            keys.Add(($"cells.{c}.preprocess_bn", $"{c}/preprocess_bn"));
            for (int b = 0; b < g.Branches.Count; b++)
                foreach (string part in new[] { "first", "second" })
                    keys.Add(($"cells.{c}.branch_{b}_{part}", $"{c}/{b}/{part}/{g.Branches[b].Type}"));
        }
        return keys;
    }

    /// <summary>Stores the tensors of <paramref name="network"/> under <paramref name="keys"/>, trained to
    /// <paramref name="accuracy"/>; returns the number of tensors written.</summary>
    public int Store(Module network, IEnumerable<(string Prefix, string Key)> keys, double accuracy) =>
        Store(network.StateDict(), keys, accuracy);

    /// <summary>Stores the tensors of a state dict (name ↦ tensor, e.g. read back from <c>model.safetensors</c>) under
    /// <paramref name="keys"/>, trained to <paramref name="accuracy"/>; returns the number of tensors written.</summary>
    public int Store(IEnumerable<(string Name, Tensor Tensor)> stateDict, IEnumerable<(string Prefix, string Key)> keys, double accuracy)
    {
        int written = 0;
        foreach ((string key, string name, _, Tensor t) in Match(stateDict, keys))
        {
            if (!_entries.TryGetValue((key, name), out List<Entry>? list)) _entries[(key, name)] = list = [];
            int i = list.FindIndex(e => e.Value.HasShape(t.Shape));
            if (i >= 0 && list[i].Step == Step && list[i].Accuracy >= accuracy) continue;
            var entry = new Entry(t.Clone(), accuracy, Step);
            if (i >= 0) list[i] = entry;
            else list.Add(entry);
            written++;
        }
        return written;
    }

    /// <summary>Loads every stored key into <paramref name="network"/> (exact shape, else the closest shape sliced or
    /// zero-padded); returns the number of tensors loaded.</summary>
    public int Load(Module network, IEnumerable<(string Prefix, string Key)> keys) => LoadInto(network, keys).Count;

    /// <summary>Loads every stored key into <paramref name="network"/> as <see cref="Load"/> does and returns the loaded
    /// tensors by their full state-dict names (the network's own tensors, now holding the shared values).</summary>
    public IReadOnlyDictionary<string, Tensor> LoadInto(Module network, IEnumerable<(string Prefix, string Key)> keys)
    {
        var loaded = new Dictionary<string, Tensor>();
        foreach ((string key, string name, string fullName, Tensor t) in Match(network.StateDict(), keys))
        {
            if (!_entries.TryGetValue((key, name), out List<Entry>? list)) continue;
            Entry? best = list.Where(e => e.Value.Rank == t.Rank).MinBy(e => Distance(e.Value.Shape, t.Shape));
            if (best is null) continue;
            Fit(best.Value, t, PadWithZeros);
            loaded[fullName] = t;
        }
        return loaded;
    }

    private static IEnumerable<(string Key, string Name, string FullName, Tensor Tensor)> Match(IEnumerable<(string Name, Tensor Tensor)> stateDict,
        IEnumerable<(string Prefix, string Key)> keys)
    {
        var prefixes = keys.ToList();
        foreach ((string name, Tensor t) in stateDict)
            foreach ((string prefix, string key) in prefixes)
                if (name.StartsWith(prefix + ".", StringComparison.Ordinal))
                {
                    yield return (key, name[(prefix.Length + 1)..], name, t);
                    break;
                }
    }

    private static long Distance(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        long d = 0;
        for (int i = 0; i < a.Length; i++) d += Math.Abs(a[i] - b[i]);
        return d;
    }

    /// <summary>Writes <paramref name="source"/> into <paramref name="target"/> of the same rank: the overlapping block
    /// from the origin is copied, the rest of the target is set to zero (or, with <paramref name="zeroRest"/> false,
    /// keeps its values).</summary>
    public static void Fit(Tensor source, Tensor target, bool zeroRest = true)
    {
        if (source.Rank != target.Rank) throw new ArgumentException($"EPNAS sharing: cannot fit {source.ShapeString} into {target.ShapeString}");
        Span<float> dst = target.Span;
        if (zeroRest) dst.Clear();
        ReadOnlySpan<float> src = source.Span;
        int rank = target.Rank;
        if (rank == 0) { dst[0] = src[0]; return; }
        int[] overlap = new int[rank];
        for (int d = 0; d < rank; d++) overlap[d] = Math.Min(source.Dim(d), target.Dim(d));
        if (overlap.Any(o => o == 0)) return;
        long[] srcStride = Strides(source), dstStride = Strides(target);
        int[] index = new int[rank];
        while (true)
        {
            long s = 0, t = 0;
            for (int d = 0; d < rank - 1; d++) { s += index[d] * srcStride[d]; t += index[d] * dstStride[d]; }
            src.Slice((int)s, overlap[rank - 1]).CopyTo(dst.Slice((int)t, overlap[rank - 1]));
            int k = rank - 2;
            while (k >= 0 && ++index[k] == overlap[k]) index[k--] = 0;
            if (k < 0) return;
        }
    }

    private static long[] Strides(Tensor t)
    {
        var s = new long[t.Rank];
        long acc = 1;
        for (int d = t.Rank - 1; d >= 0; d--) { s[d] = acc; acc *= t.Dim(d); }
        return s;
    }
}
