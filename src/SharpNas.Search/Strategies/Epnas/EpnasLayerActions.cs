using SharpNas.Search.Spaces.Epnas;
using SharpNas.Training;
using static SharpNas.Search.Strategies.Epnas.EpnasDecisions;

namespace SharpNas.Search.Strategies.Epnas;

/// <summary>
/// The actions of the layer-by-layer pattern (paper §3.2–3.3, Fig. 3). Scale: per group, a channel step and a filter-width
/// step applied to every conv/sepconv layer of the group. Insert: type, then the fields the type uses (conv: filter
/// width, channels, activation; pooling: pooling width), then the position p (the new layer reads node p, i.e. it sits
/// after layer p − 1, and the layer that read node p as src1 now reads the new layer), then src2 (none or a node
/// 0..p). Remove: the position; the removed layer's readers read its src1 instead. A choice is masked when no valid
/// network can follow from it on <see cref="Input"/>.
/// </summary>
public sealed class EpnasLayerActions : IEpnasActionSpace<EpnasLayerGenotype>
{
    /// <summary>Kinds after the shared ones.</summary>
    public const int Type = 3, FilterWidth = 4, PoolWidth = 5, Channels = 6, Activation = 7, Position = 8, Src2 = 9, RemovePosition = 10;

    private (EpnasLayerGenotype Genotype, HashSet<(int Type, int Pw, int Pos, int Src2)> Inserts, bool[] Removals)? _cache;

    /// <summary>The problem the networks must lay out on (pooling may not empty the map).</summary>
    public InputSpec Input { get; }

    /// <inheritdoc/>
    public EpnasActionOptions Options { get; }

    /// <inheritdoc/>
    public IReadOnlyList<EpnasDecisionKind> Kinds { get; }

    /// <summary>Creates the action space.</summary>
    public EpnasLayerActions(InputSpec input, EpnasActionOptions? options = null)
    {
        Input = input;
        Options = (options ?? new EpnasActionOptions()).Validated(EpnasTables.MaxLayers);
        int m = Options.MaxElements;
        Kinds =
        [
            new("channel-scale", Options.ChannelScaleSteps.Count), new("width-scale", Options.WidthScaleSteps.Count), new("action", 3),
            new("type", 5), new("filter-width", 4), new("pool-width", 2), new("channels", EpnasTables.LayerChannels.Count),
            new("activation", 5), new("position", m), new("src2", m + 1), new("remove-position", m),
        ];
    }

    /// <inheritdoc/>
    public int TokenCount => 26;

    /// <inheritdoc/>
    public int[][] Tokens(EpnasLayerGenotype g) => g.Layers.Select((l, i) => new[]
    {
        (int)l.Type, 5 + Idx(EpnasTables.FilterWidths, l.FilterWidth), 9 + Idx(EpnasTables.PoolWidths, l.PoolWidth),
        11 + Idx(EpnasTables.LayerChannels, l.Channels), 17 + (int)l.Activation, l.Src2 >= 0 ? 23 : 22, l.Src1 == i ? 24 : 25,
    }).ToArray();

    private static int Idx(IReadOnlyList<int> t, int v) => Math.Max(0, t.ToList().IndexOf(v));

    /// <inheritdoc/>
    public IReadOnlyList<int[]> Groups(EpnasLayerGenotype g) => Partition(g.Layers.Count, Options.ScaleGroups);

    private static readonly EpnasScaling<EpnasLayer> Scaling = new(e => e.IsConv, e => e.Channels, e => e.FilterWidth,
        (e, channels, width) => e with { Channels = channels, FilterWidth = width }, EpnasTables.LayerChannels);

    /// <inheritdoc/>
    public bool[] ScaleMask(EpnasLayerGenotype g, int[] group, bool channels) => Scaling.Mask(Options, g.Layers, group, channels);

    /// <inheritdoc/>
    public EpnasLayerGenotype Scale(EpnasLayerGenotype g, IReadOnlyList<int> channelChoices, IReadOnlyList<int> widthChoices) =>
        g with { Layers = Scaling.Apply(Options, g.Layers, Groups(g), channelChoices, widthChoices) };

    private static bool IsPool(int type) => type is (int)EpnasLayerType.MaxPool or (int)EpnasLayerType.AvgPool;
    private static bool IsConv(int type) => type is (int)EpnasLayerType.Conv2d or (int)EpnasLayerType.SepConv2d;

    /// <summary>The decision kinds an insertion of <paramref name="type"/> takes after its type.</summary>
    private static int[] Program(int type) =>
        IsConv(type) ? [FilterWidth, Channels, Activation, Position, Src2] : IsPool(type) ? [PoolWidth, Position, Src2] : [Position, Src2];

    /// <inheritdoc/>
    public EpnasDecisionRequest? NextInsert(EpnasLayerGenotype g, IReadOnlyList<int> d)
    {
        (HashSet<(int Type, int Pw, int Pos, int Src2)> inserts, bool[] removals) = Validity(g);
        int m = Options.MaxElements, n = g.Layers.Count;
        if (d.Count == 0) return new(ActionKind, [true, inserts.Count > 0, removals.Any(r => r)]);
        if (d[0] == Keep) return null;
        if (d[0] == Remove) return d.Count == 1 ? new(RemovePosition, removals) : null;
        if (d.Count == 1) return new(Type, Enumerable.Range(0, 5).Select(t => inserts.Any(v => v.Type == t)).ToArray());
        int type = d[1];
        int[] program = Program(type);
        int k = d.Count - 2;
        if (k >= program.Length) return null;
        int pw = IsPool(type) && k > 0 ? d[2] : 0;
        int pos = k > program.Length - 2 ? d[d.Count - 1] : -1;
        return program[k] switch
        {
            PoolWidth => new(PoolWidth, [inserts.Any(v => v.Type == type && v.Pw == 0), inserts.Any(v => v.Type == type && v.Pw == 1)]),
            Position => new(Position, Enumerable.Range(0, m).Select(p => inserts.Any(v => v.Type == type && v.Pw == pw && v.Pos == p)).ToArray(),
                PositionPrior(Options.Prior, m, n)),
            Src2 => new(Src2, Enumerable.Range(0, m + 1).Select(c => inserts.Contains((type, pw, pos, c - 1))).ToArray()),
            int kind => new(kind, Enumerable.Repeat(true, Kinds[kind].Choices).ToArray()),
        };
    }

    /// <inheritdoc/>
    public EpnasLayerGenotype Insert(EpnasLayerGenotype g, IReadOnlyList<int> d)
    {
        EpnasDecisions.CheckInsert(this, g, d);
        if (d[0] == Keep) return g;
        if (d[0] == Remove) return RemoveAt(g, d[1]);
        int type = d[1];
        int[] program = Program(type);
        int Get(int kind, int fallback) => Array.IndexOf(program, kind) is int j and >= 0 ? d[2 + j] : fallback;
        var layer = new EpnasLayer((EpnasLayerType)type, EpnasTables.FilterWidths[Get(FilterWidth, 1)], EpnasTables.PoolWidths[Get(PoolWidth, 0)],
            EpnasTables.LayerChannels[Get(Channels, 1)], (EpnasActivation)Get(Activation, 0), Get(Position, 0), Get(Src2, 0) - 1);
        return InsertAt(g, layer);
    }

    /// <summary>Inserts <paramref name="layer"/> at index layer.Src1 (it reads node Src1); later references shift and
    /// the layer that read node Src1 as its src1 reads the new layer.</summary>
    public static EpnasLayerGenotype InsertAt(EpnasLayerGenotype g, EpnasLayer layer)
    {
        int p = layer.Src1;
        var layers = new List<EpnasLayer>(g.Layers.Count + 1);
        for (int j = 0; j < g.Layers.Count; j++)
        {
            EpnasLayer l = g.Layers[j];
            if (j == p) layers.Add(layer);
            if (j >= p)
            {
                int Shift(int r) => r > p ? r + 1 : r;
                l = l with { Src1 = j == p && l.Src1 == p ? p + 1 : Shift(l.Src1), Src2 = l.Src2 < 0 ? -1 : Shift(l.Src2) };
            }
            layers.Add(l);
        }
        if (p == g.Layers.Count) layers.Add(layer);
        return g with { Layers = layers };
    }

    /// <summary>Removes layer <paramref name="q"/>; its readers read its src1, later references shift down.</summary>
    public static EpnasLayerGenotype RemoveAt(EpnasLayerGenotype g, int q)
    {
        int s = g.Layers[q].Src1;
        int Ref(int r) => r == q + 1 ? s : r > q + 1 ? r - 1 : r;
        var layers = g.Layers.Where((_, j) => j != q).Select((l, j) => j < q ? l : l with { Src1 = Ref(l.Src1), Src2 = l.Src2 < 0 ? -1 : Ref(l.Src2) }).ToList();
        return g with { Layers = layers };
    }

    /// <summary>Every valid (type, pool-width choice, position, src2) insertion and every valid removal.</summary>
    private (HashSet<(int Type, int Pw, int Pos, int Src2)> Inserts, bool[] Removals) Validity(EpnasLayerGenotype g)
    {
        if (_cache is { } c && ReferenceEquals(c.Genotype, g)) return (c.Inserts, c.Removals);
        int n = g.Layers.Count, m = Options.MaxElements;
        var inserts = new HashSet<(int, int, int, int)>();
        if (n < m)
            for (int t = 0; t < 5; t++)
                for (int pw = 0; pw < (IsPool(t) ? 2 : 1); pw++)
                    for (int p = 0; p <= n; p++)
                        for (int s2 = t == (int)EpnasLayerType.Add ? 0 : -1; s2 <= p; s2++)
                        {
                            var layer = new EpnasLayer((EpnasLayerType)t, 3, EpnasTables.PoolWidths[pw], 32, EpnasActivation.Relu, p, s2);
                            if (InsertAt(g, layer).IsValidFor(Input)) inserts.Add((t, pw, p, s2));
                        }
        var removals = new bool[m];
        for (int q = 0; q < Math.Min(n, m); q++) removals[q] = n > 1 && RemoveAt(g, q).IsValidFor(Input);
        _cache = (g, inserts, removals);
        return (inserts, removals);
    }
}
