using System.Text.Json.Nodes;
using SharpNas.Engine;
using SharpNas.Engine.Modules;
using SharpNas.Search.Genotypes;
using SharpNas.Training;
using SharpNas.Training.Cost;

namespace SharpNas.Search.Spaces.Epnas;

/// <summary>The two operations of a branch (paper Table 3, right): the first reads src1, the second src2.</summary>
public enum EpnasBranchType
{
    /// <summary>conv(src1) ‖ conv(src2).</summary>
    ConvConv,
    /// <summary>conv(src1) ‖ maxpool(src2).</summary>
    ConvMaxPool,
    /// <summary>conv(src1) ‖ avgpool(src2).</summary>
    ConvAvgPool,
    /// <summary>conv(src1).</summary>
    ConvNone,
    /// <summary>maxpool(src1).</summary>
    MaxPoolNone,
    /// <summary>avgpool(src1).</summary>
    AvgPoolNone,
    /// <summary>src1 itself (routes an earlier state to the cell output).</summary>
    NoneNone,
}

/// <summary>
/// One branch of an EPNAS cell. Sources are cell <i>states</i>: 0 is the cell input (after the cell's 1×1
/// preprocessing), j ≥ 1 the output of branch j − 1, so branch b reads states 0..b. The second source is −1 when the
/// branch has no second operation. Branches whose <see cref="Propagate"/> is true are concatenated into the cell output.
/// </summary>
public sealed record EpnasBranch(EpnasBranchType Type, int FilterWidth, int PoolWidth, int Channels, int Src1, int Src2, bool Propagate)
{
    internal static readonly string[] TypeNames = ["conv-conv", "conv-maxpool", "conv-avgpool", "conv-none", "maxpool-none", "avgpool-none", "none-none"];

    /// <summary>The operation on src1 and on src2 (null for none).</summary>
    public (EpnasCellOp? First, EpnasCellOp? Second) Ops => Type switch
    {
        EpnasBranchType.ConvConv => (EpnasCellOp.Conv, EpnasCellOp.Conv),
        EpnasBranchType.ConvMaxPool => (EpnasCellOp.Conv, EpnasCellOp.MaxPool),
        EpnasBranchType.ConvAvgPool => (EpnasCellOp.Conv, EpnasCellOp.AvgPool),
        EpnasBranchType.ConvNone => (EpnasCellOp.Conv, null),
        EpnasBranchType.MaxPoolNone => (EpnasCellOp.MaxPool, null),
        EpnasBranchType.AvgPoolNone => (EpnasCellOp.AvgPool, null),
        _ => (null, null),
    };

    /// <summary>True when the branch reads src2.</summary>
    public bool UsesSrc2 => Ops.Second is not null;
    /// <summary>True when the branch has a conv (filter width and channels matter).</summary>
    public bool HasConv => Ops.First == EpnasCellOp.Conv;

    /// <summary>The JSON form.</summary>
    public JsonObject ToJson() => new()
    {
        ["type"] = TypeNames[(int)Type],
        ["filterWidth"] = FilterWidth,
        ["poolWidth"] = PoolWidth,
        ["channels"] = Channels,
        ["src1"] = Src1,
        ["src2"] = Src2,
        ["propagate"] = Propagate ? 1 : 0,
    };

    /// <summary>Reads the JSON form (filter width 3, pool width 3, 16 channels, src2 −1, propagate 1 by default).</summary>
    public static EpnasBranch FromJson(JsonNode node, string where)
    {
        if (node is not JsonObject o) throw new GenotypeException($"{where}: a branch must be a JSON object, found {node.ToJsonString()}");
        var type = (EpnasBranchType)EpnasTables.Parse(TypeNames, EpnasLayer.Str(ArchitectureJson.Field(o, "type", where), "type", where), where, "type");
        int propagate = EpnasLayer.Int(o, "propagate", 1, where);
        if (propagate is not (0 or 1)) throw new GenotypeException($"{where}: field \"propagate\" must be 0 or 1, found {propagate}");
        return new EpnasBranch(type, EpnasLayer.Int(o, "filterWidth", 3, where), EpnasLayer.Int(o, "poolWidth", 3, where),
            EpnasLayer.Int(o, "channels", 16, where), ArchitectureJson.IntField(ArchitectureJson.Field(o, "src1", where), "src1", where),
            EpnasLayer.Int(o, "src2", -1, where), propagate == 1);
    }
}

/// <summary>An operation inside a cell branch.</summary>
public enum EpnasCellOp
{
    /// <summary>ReLU → k×k conv (stride 1, same padding) → BN.</summary>
    Conv,
    /// <summary>Max pooling of width p, stride 1, output the input's size.</summary>
    MaxPool,
    /// <summary>Average pooling of width p, stride 1, output the input's size.</summary>
    AvgPool,
}

/// <summary>
/// A module-pattern EPNAS network (paper §3.3, Table 3 right): a stem (3×3 conv with <see cref="Filters"/> channels, BN),
/// then <see cref="Stages"/> stages of <see cref="CellsPerStage"/> copies of one cell, a reduction cell (the same cell) in
/// front of every stage but the first, then ReLU, global average pooling and a dense classifier.
/// <para>Each cell starts with a preprocessing ReLU → 1×1 conv → BN that maps its input to F·2^s channels (stage s;
/// stride 2 in a reduction cell, which is how a reduction cell reduces: every branch runs at stride 1). A branch's conv
/// has <c>channels</c>·2^s filters; its two operation outputs are concatenated (the paper's wording), and so are the
/// outputs of the propagating branches.</para>
/// <para>JSON (<c>"kind": "epnas-module"</c>): <c>{"kind": "epnas-module", "cellsPerStage": 2, "stages": 3, "filters": 16,
/// "branches": [{"type": "conv-maxpool", "filterWidth": 3, "poolWidth": 3, "channels": 16, "src1": 0, "src2": 0,
/// "propagate": 1}, …]}</c>.</para>
/// </summary>
public sealed record EpnasModuleGenotype(IReadOnlyList<EpnasBranch> Branches, int CellsPerStage = 2, int Stages = 3, int Filters = 16) : IEpnasGenotype
{
    /// <summary>The JSON kind.</summary>
    public const string KindName = "epnas-module";

    /// <inheritdoc/>
    public string Kind => KindName;

    /// <summary>Checks every field; errors name the branch and the field. Returns this.</summary>
    public EpnasModuleGenotype Validated(string source = "genotype")
    {
        EpnasTables.CheckCount(Branches, EpnasTables.MaxBranches, "branches", "branch", source);
        if (CellsPerStage is < 1 or > 32) throw new GenotypeException($"{source}: field \"cellsPerStage\" must be in 1..32, found {CellsPerStage}");
        if (Stages is < 1 or > 6) throw new GenotypeException($"{source}: field \"stages\" must be in 1..6, found {Stages}");
        if (Filters is < 1 or > 1024) throw new GenotypeException($"{source}: field \"filters\" must be in 1..1024, found {Filters}");
        for (int b = 0; b < Branches.Count; b++)
        {
            EpnasBranch br = Branches[b];
            string where = $"{source}: branch {b}";
            if (!Enum.IsDefined(br.Type)) throw new GenotypeException($"{where}: field \"type\" is unknown ({(int)br.Type})");
            EpnasTables.CheckIn(EpnasTables.FilterWidths, br.FilterWidth, where, "filterWidth");
            EpnasTables.CheckIn(EpnasTables.PoolWidths, br.PoolWidth, where, "poolWidth");
            EpnasTables.CheckIn(EpnasTables.BranchChannels, br.Channels, where, "channels");
            if (br.Src1 < 0 || br.Src1 > b)
                throw new GenotypeException($"{where}: field \"src1\" must be a state in 0..{b} (0 is the cell input, j the output of branch j − 1), found {br.Src1}");
            if (br.UsesSrc2 ? br.Src2 < 0 || br.Src2 > b : br.Src2 != -1)
                throw new GenotypeException(br.UsesSrc2
                    ? $"{where}: field \"src2\" must be a state in 0..{b} for a {EpnasBranch.TypeNames[(int)br.Type]} branch, found {br.Src2}"
                    : $"{where}: field \"src2\" must be −1 for a {EpnasBranch.TypeNames[(int)br.Type]} branch (no second operation), found {br.Src2}");
        }
        if (!Branches.Any(b => b.Propagate)) throw new GenotypeException($"{source}: no branch has \"propagate\" = 1, so the cell has no output");
        return this;
    }

    /// <summary>The channels of every state of a cell in stage <paramref name="stage"/> (state 0 = preprocessed input).</summary>
    internal int[] StateChannels(int stage)
    {
        var c = new int[Branches.Count + 1];
        c[0] = Filters << stage;
        for (int b = 0; b < Branches.Count; b++)
        {
            EpnasBranch br = Branches[b];
            (EpnasCellOp? first, EpnasCellOp? second) = br.Ops;
            c[b + 1] = OpChannels(first, c[br.Src1], br, stage) + (second is null ? 0 : OpChannels(second, c[br.Src2], br, stage));
        }
        return c;
    }

    internal static int OpChannels(EpnasCellOp? op, int input, EpnasBranch br, int stage) => op == EpnasCellOp.Conv ? br.Channels << stage : input;

    /// <summary>Output channels of a cell in stage <paramref name="stage"/>.</summary>
    internal int CellOutChannels(int stage)
    {
        int[] c = StateChannels(stage);
        return Branches.Select((b, i) => b.Propagate ? c[i + 1] : 0).Sum();
    }

    /// <summary>Every cell in order: (stage, reduction, input channels, input size, output size).</summary>
    internal IEnumerable<(int Stage, bool Reduction, int InC, int H, int W, int OutH, int OutW)> Cells(InputSpec input)
    {
        Validated();
        if (input.Channels < 1 || input.Height < 1 || input.Width < 1 || input.NumClasses < 1) throw new ArgumentException($"EPNAS: bad input {input}");
        int c = Filters, h = input.Height, w = input.Width;
        for (int s = 0; s < Stages; s++)
            for (int i = s == 0 ? 0 : -1; i < CellsPerStage; i++)
            {
                bool red = i < 0;
                (int oh, int ow) = red ? ((h + 1) / 2, (w + 1) / 2) : (h, w);
                yield return (s, red, c, h, w, oh, ow);
                (c, h, w) = (CellOutChannels(s), oh, ow);
            }
    }

    /// <summary>True when the genotype validates.</summary>
    public bool IsValidFor(InputSpec input)
    {
        try { Validated(); return true; }
        catch (GenotypeException) { return false; }
    }

    // ---- IArchitecture ----

    /// <inheritdoc/>
    public Module<Tensor, Tensor> Build(InputSpec input) => new EpnasModuleNetwork(this, input);

    /// <inheritdoc/>
    public ArchitectureCost Cost(InputSpec input) => Count(input).Counter.Result;

    /// <summary>Parameters, FLOPs, bytes moved and compute intensity (see <see cref="EpnasResources"/>).</summary>
    public EpnasResources Resources(InputSpec input) => Count(input).Resources;

    private EpnasCostCounter Count(InputSpec input)
    {
        var cells = Cells(input).ToList();
        var c = new EpnasCostCounter();
        c.Counter.ConvSame(input.Channels, Filters, input.Height, input.Width, 3);
        c.Counter.BatchNorm(Filters, input.Height, input.Width);
        c.Move(9L * input.Channels * Filters + 2L * Filters, (long)input.Channels * input.Height * input.Width, (long)Filters * input.Height * input.Width);
        foreach (var cell in cells) EpnasCellModule.Count(c, this, cell.Stage, cell.Reduction, cell.InC, cell.H, cell.W);
        var last = cells[^1];
        int outC = CellOutChannels(last.Stage);
        c.Counter.Elementwise(outC, last.OutH, last.OutW);
        c.Counter.Elementwise(outC, 1, 1);
        c.Counter.Linear(outC, input.NumClasses);
        c.Move((long)outC * input.NumClasses + input.NumClasses, (long)outC * last.OutH * last.OutW, input.NumClasses);
        return c;
    }

    /// <inheritdoc/>
    public string Describe() =>
        $"epnas-module {CellsPerStage} cells × {Stages} stages (F={Filters}): " + string.Join(" ", Branches.Select(b =>
            $"[{EpnasBranch.TypeNames[(int)b.Type]} k{b.FilterWidth} p{b.PoolWidth} c{b.Channels} s{b.Src1},{b.Src2}{(b.Propagate ? " out" : "")}]"));

    /// <inheritdoc/>
    public JsonObject ToJson() => new()
    {
        ["kind"] = KindName,
        ["cellsPerStage"] = CellsPerStage,
        ["stages"] = Stages,
        ["filters"] = Filters,
        ["branches"] = new JsonArray(Branches.Select(b => (JsonNode)b.ToJson()).ToArray()),
    };

    /// <summary>Reads the JSON form; errors name the branch and field.</summary>
    public static EpnasModuleGenotype FromJson(JsonObject o, string source)
    {
        List<EpnasBranch> list = EpnasTables.ReadList(o, "branches", "branch", source, EpnasBranch.FromJson);
        return new EpnasModuleGenotype(list, EpnasLayer.Int(o, "cellsPerStage", 2, source), EpnasLayer.Int(o, "stages", 3, source),
            EpnasLayer.Int(o, "filters", 16, source)).Validated(source);
    }

    /// <summary>Value equality over the branch list.</summary>
    public bool Equals(EpnasModuleGenotype? other) => other is not null && CellsPerStage == other.CellsPerStage && Stages == other.Stages
        && Filters == other.Filters && Branches.SequenceEqual(other.Branches);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(CellsPerStage); h.Add(Stages); h.Add(Filters);
        foreach (EpnasBranch b in Branches) h.Add(b);
        return h.ToHashCode();
    }
}
