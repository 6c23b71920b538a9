using SharpNas.Search.Spaces.Epnas;
using static SharpNas.Search.Strategies.Epnas.EpnasDecisions;

namespace SharpNas.Search.Strategies.Epnas;

/// <summary>
/// The actions of the module pattern (paper §3.3): as the layer-by-layer actions, but on the branches of the cell.
/// Scale: per group of branches, a channel step (along [8, 12, 16, 24, 32]) and a filter-width step for branches with a
/// conv. Insert: branch type, the fields it uses (filter width and channels with a conv, pooling width with a pooling),
/// position p (the new branch becomes branch p; it reads states 0..p), src1, src2 (only when the type has a second
/// operation), propagate. Remove: the position; states that read the removed branch read its src1 instead. A removal
/// that leaves no propagating branch is masked.
/// </summary>
public sealed class EpnasModuleActions : IEpnasActionSpace<EpnasModuleGenotype>
{
    /// <summary>Kinds after the shared ones.</summary>
    public const int Type = 3, FilterWidth = 4, PoolWidth = 5, Channels = 6, Position = 7, Src1 = 8, Src2 = 9, Propagate = 10, RemovePosition = 11;

    /// <inheritdoc/>
    public EpnasActionOptions Options { get; }

    /// <inheritdoc/>
    public IReadOnlyList<EpnasDecisionKind> Kinds { get; }

    /// <summary>Creates the action space.</summary>
    public EpnasModuleActions(EpnasActionOptions? options = null)
    {
        Options = (options ?? new EpnasActionOptions { MaxElements = 8, ScaleGroups = 2 }).Validated(EpnasTables.MaxBranches);
        int m = Options.MaxElements;
        Kinds =
        [
            new("channel-scale", Options.ChannelScaleSteps.Count), new("width-scale", Options.WidthScaleSteps.Count), new("action", 3),
            new("branch-type", 7), new("filter-width", 4), new("pool-width", 2), new("channels", EpnasTables.BranchChannels.Count),
            new("position", m), new("src1", m), new("src2", m), new("propagate", 2), new("remove-position", m),
        ];
    }

    /// <inheritdoc/>
    public int TokenCount => 25;

    /// <inheritdoc/>
    public int[][] Tokens(EpnasModuleGenotype g) => g.Branches.Select(b => new[]
    {
        (int)b.Type, 7 + Math.Max(0, EpnasTables.FilterWidths.ToList().IndexOf(b.FilterWidth)), 11 + (b.PoolWidth == 3 ? 1 : 0),
        13 + Math.Max(0, EpnasTables.BranchChannels.ToList().IndexOf(b.Channels)), b.Propagate ? 19 : 18, b.Src1 == 0 ? 20 : 21,
        b.Src2 < 0 ? 22 : b.Src2 == 0 ? 23 : 24,
    }).ToArray();

    /// <inheritdoc/>
    public IReadOnlyList<int[]> Groups(EpnasModuleGenotype g) => Partition(g.Branches.Count, Options.ScaleGroups);

    private static readonly EpnasScaling<EpnasBranch> Scaling = new(e => e.HasConv, e => e.Channels, e => e.FilterWidth,
        (e, channels, width) => e with { Channels = channels, FilterWidth = width }, EpnasTables.BranchChannels);

    /// <inheritdoc/>
    public bool[] ScaleMask(EpnasModuleGenotype g, int[] group, bool channels) => Scaling.Mask(Options, g.Branches, group, channels);

    /// <inheritdoc/>
    public EpnasModuleGenotype Scale(EpnasModuleGenotype g, IReadOnlyList<int> channelChoices, IReadOnlyList<int> widthChoices) =>
        g with { Branches = Scaling.Apply(Options, g.Branches, Groups(g), channelChoices, widthChoices) };

    private static int[] Program(int type)
    {
        var probe = new EpnasBranch((EpnasBranchType)type, 3, 3, 16, 0, 0, true);
        var p = new List<int>();
        if (probe.HasConv) { p.Add(FilterWidth); p.Add(Channels); }
        if (probe.Ops.First is EpnasCellOp.MaxPool or EpnasCellOp.AvgPool || probe.Ops.Second is EpnasCellOp.MaxPool or EpnasCellOp.AvgPool) p.Add(PoolWidth);
        p.Add(Position);
        p.Add(Src1);
        if (probe.UsesSrc2) p.Add(Src2);
        p.Add(Propagate);
        return [.. p];
    }

    private bool[] Removals(EpnasModuleGenotype g)
    {
        var r = new bool[Options.MaxElements];
        for (int q = 0; q < Math.Min(g.Branches.Count, r.Length); q++) r[q] = g.Branches.Count > 1 && RemoveAt(g, q).IsValidFor(default);
        return r;
    }

    /// <inheritdoc/>
    public EpnasDecisionRequest? NextInsert(EpnasModuleGenotype g, IReadOnlyList<int> d)
    {
        int m = Options.MaxElements, n = g.Branches.Count;
        if (d.Count == 0) return new(ActionKind, [true, n < m, Removals(g).Any(r => r)]);
        if (d[0] == Keep) return null;
        if (d[0] == Remove) return d.Count == 1 ? new(RemovePosition, Removals(g)) : null;
        if (d.Count == 1) return new(Type, Enumerable.Repeat(true, 7).ToArray());
        int[] program = Program(d[1]);
        int k = d.Count - 2;
        if (k >= program.Length) return null;
        int pos = Array.IndexOf(program, Position) is int pi && pi < k ? d[2 + pi] : -1;
        return program[k] switch
        {
            Position => new(Position, Prefix(m, n + 1), PositionPrior(Options.Prior, m, n)),
            Src1 or Src2 => new(program[k], Prefix(m, pos + 1)),
            int kind => new(kind, Enumerable.Repeat(true, Kinds[kind].Choices).ToArray()),
        };
    }

    /// <inheritdoc/>
    public EpnasModuleGenotype Insert(EpnasModuleGenotype g, IReadOnlyList<int> d)
    {
        EpnasDecisions.CheckInsert(this, g, d);
        if (d[0] == Keep) return g;
        if (d[0] == Remove) return RemoveAt(g, d[1]);
        int[] program = Program(d[1]);
        int Get(int kind, int fallback) => Array.IndexOf(program, kind) is int j and >= 0 ? d[2 + j] : fallback;
        var branch = new EpnasBranch((EpnasBranchType)d[1], EpnasTables.FilterWidths[Get(FilterWidth, 1)], EpnasTables.PoolWidths[Get(PoolWidth, 1)],
            EpnasTables.BranchChannels[Get(Channels, 2)], Get(Src1, 0), Get(Src2, -1), Get(Propagate, 1) == 1);
        return InsertAt(g, branch, Get(Position, 0));
    }

    /// <summary>Inserts <paramref name="branch"/> as branch <paramref name="p"/>; later references to states &gt; p shift up.</summary>
    public static EpnasModuleGenotype InsertAt(EpnasModuleGenotype g, EpnasBranch branch, int p)
    {
        int Shift(int r) => r > p ? r + 1 : r;
        var list = g.Branches.Select((b, j) => j < p ? b : b with { Src1 = Shift(b.Src1), Src2 = b.Src2 < 0 ? -1 : Shift(b.Src2) }).ToList();
        list.Insert(p, branch);
        return g with { Branches = list };
    }

    /// <summary>Removes branch <paramref name="q"/>; its readers read its src1, later references shift down.</summary>
    public static EpnasModuleGenotype RemoveAt(EpnasModuleGenotype g, int q)
    {
        int s = g.Branches[q].Src1;
        int Ref(int r) => r == q + 1 ? s : r > q + 1 ? r - 1 : r;
        var list = g.Branches.Where((_, j) => j != q).Select((b, j) => j < q ? b : b with { Src1 = Ref(b.Src1), Src2 = b.Src2 < 0 ? -1 : Ref(b.Src2) }).ToList();
        return g with { Branches = list };
    }
}
