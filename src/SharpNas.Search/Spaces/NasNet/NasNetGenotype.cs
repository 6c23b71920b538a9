using System.Globalization;
using System.Text.Json.Nodes;
using SharpNas.Engine;
using SharpNas.Engine.Modules;
using SharpNas.Search.Genotypes;
using SharpNas.Training;
using SharpNas.Training.Cost;

namespace SharpNas.Search.Spaces.NasNet;

/// <summary>The stem in front of the cells.</summary>
public enum NasNetStem
{
    /// <summary>3×3 conv (stride 1) with StemMultiplier × F filters, BN.</summary>
    Cifar,
    /// <summary>3×3 conv (stride 2, no padding) with 32 × StemMultiplier filters, BN, then two reduction cells with
    /// F/4 and F/2 filters (the authors' ImageNet stem).</summary>
    ImageNet,
}

/// <summary>
/// A NASNet architecture (Zoph et al. 2018): a normal and a reduction cell, stacked "N @ P": N normal cells per stage,
/// three stages with F, 2F and 4F filters, a reduction cell between stages. P, the penultimate filter count, is the last
/// cell's output width (24F for NASNet-A, whose normal cell outputs 6 states; 6 @ 768 is F = 32).
/// <para>JSON (<c>"kind": "nasnet"</c>): <c>{"kind": "nasnet", "cellsPerStage": 6, "filters": 32, "stem": "cifar",
/// "stemMultiplier": 3, "auxHead": true, "dropPathKeepProb": 0.6, "denseDropout": 0, "normal": {"blocks": [...],
/// "output": [...]}, "reduction": {...}}</c>; a cell may also be given as the string <c>"nasnet-a"</c>. Fields after
/// <c>filters</c> are optional with the defaults below.</para>
/// <para>The search space is exposed as 2 × 5B categorical decisions (<see cref="ToDecisions"/>,
/// <see cref="DecisionChoices"/>, <see cref="WithDecisions"/>).</para>
/// </summary>
/// <param name="Normal">The normal cell.</param>
/// <param name="Reduction">The reduction cell.</param>
/// <param name="CellsPerStage">N: normal cells per stage.</param>
/// <param name="Filters">F: the first stage's filters per op (doubled at each reduction).</param>
/// <param name="Stem">CIFAR or ImageNet stem.</param>
/// <param name="AuxHead">Whether to build the auxiliary classifier after the second stage.</param>
/// <param name="DropPathKeepProb">ScheduledDropPath's final keep probability of the last cell (1 = off; CIFAR 0.6).</param>
/// <param name="StemMultiplier">CIFAR stem filters = StemMultiplier × F; ImageNet stem filters = 32 × StemMultiplier.</param>
/// <param name="DenseDropout">Dropout probability before the classifier (0 for CIFAR, 0.5 for ImageNet in the paper).</param>
public sealed record NasNetGenotype(NasNetCell Normal, NasNetCell Reduction, int CellsPerStage = 6, int Filters = 32,
    NasNetStem Stem = NasNetStem.Cifar, bool AuxHead = false, double DropPathKeepProb = 1.0, double StemMultiplier = 3.0,
    double DenseDropout = 0.0) : IArchitecture
{
    /// <summary>The JSON kind.</summary>
    public const string KindName = "nasnet";

    /// <summary>Number of stages (fixed by the NASNet recipe).</summary>
    public const int Stages = 3;

    /// <inheritdoc/>
    public string Kind => KindName;

    /// <summary>
    /// NASNet-A "<paramref name="cellsPerStage"/> @ <paramref name="penultimateFilters"/>" for CIFAR, by default as the
    /// paper trained 6 @ 768 (F = 32): auxiliary head, drop-path keep 0.6.
    /// </summary>
    public static NasNetGenotype NasNetA(int cellsPerStage = 6, int penultimateFilters = 768, bool auxHead = true,
        double dropPathKeepProb = 0.6, NasNetStem stem = NasNetStem.Cifar)
    {
        if (penultimateFilters <= 0 || penultimateFilters % 24 != 0)
            throw new GenotypeException($"NASNet-A {cellsPerStage} @ {penultimateFilters}: the penultimate filters must be a positive multiple of 24 (= 24 F)");
        return new NasNetGenotype(NasNetCell.NasNetANormal, NasNetCell.NasNetAReduction, cellsPerStage, penultimateFilters / 24, stem,
            auxHead, dropPathKeepProb).Validated();
    }

    /// <summary>Checks the fields; errors name the field. Returns this.</summary>
    public NasNetGenotype Validated(string source = "genotype")
    {
        if (Normal is null) throw new GenotypeException($"{source}: field \"normal\" is missing");
        if (Reduction is null) throw new GenotypeException($"{source}: field \"reduction\" is missing");
        if (CellsPerStage is < 1 or > 100) throw new GenotypeException($"{source}: field \"cellsPerStage\" (N) must be in 1..100, found {CellsPerStage}");
        int minFilters = Stem == NasNetStem.ImageNet ? 8 : 1;
        if (Filters < minFilters || Filters > 4096)
            throw new GenotypeException($"{source}: field \"filters\" (F) must be in {minFilters}..4096 for the {StemName(Stem)} stem, found {Filters}");
        if (!Enum.IsDefined(Stem)) throw new GenotypeException($"{source}: field \"stem\" must be cifar or imagenet, found {(int)Stem}");
        if (!(DropPathKeepProb is > 0 and <= 1))
            throw new GenotypeException($"{source}: field \"dropPathKeepProb\" must be in (0, 1], found {DropPathKeepProb}");
        if (!(DenseDropout is >= 0 and < 1)) throw new GenotypeException($"{source}: field \"denseDropout\" must be in [0, 1), found {DenseDropout}");
        if (!(StemMultiplier > 0) || StemChannelsFor(Stem, Filters, StemMultiplier) < 1 || StemMultiplier > 64)
            throw new GenotypeException($"{source}: field \"stemMultiplier\" must be in (0, 64] and give at least one stem filter, found {StemMultiplier}");
        return this;
    }

    /// <summary>Channels of the stem conv.</summary>
    public int StemChannels => StemChannelsFor(Stem, Filters, StemMultiplier);

    private static int StemChannelsFor(NasNetStem stem, int filters, double multiplier) =>
        (int)((stem == NasNetStem.Cifar ? filters : 32) * multiplier);

    /// <summary>Number of cells, reduction cells and ImageNet stem cells included: 3N + 2 (+ 2). ScheduledDropPath
    /// divides by it.</summary>
    public int TotalCells => Stages * CellsPerStage + (Stages - 1) + (Stem == NasNetStem.ImageNet ? 2 : 0);

    /// <summary>P: channels of the last cell's output (the "768" of "6 @ 768").</summary>
    public int PenultimateFilters => NasNetCellModule.OutputChannels(Normal, Filters << (Stages - 1));

    /// <summary>True when both cells are NASNet-A's.</summary>
    public bool IsNasNetA => Normal.Equals(NasNetCell.NasNetANormal) && Reduction.Equals(NasNetCell.NasNetAReduction);

    // ---- layout shared by the builder and the cost model ----

    /// <summary>One cell's place in the network.</summary>
    internal readonly record struct CellSlot(int Index, bool Reduction, int Filters, bool PreviousIsLarger,
        int InH, int InW, int PreviousH, int PreviousW, int OutH, int OutW);

    /// <summary>The cells in order, the stem's output size, and the cell after which the aux head sits.</summary>
    internal sealed record Plan(IReadOnlyList<CellSlot> Cells, int StemH, int StemW, int AuxAfterCell);

    internal Plan Layout(InputSpec input)
    {
        if (input.Channels < 1 || input.Height < 1 || input.Width < 1 || input.NumClasses < 1)
            throw new ArgumentException($"NASNet: bad input {input}");
        (int h, int w) = Stem == NasNetStem.Cifar ? (input.Height, input.Width) : ((input.Height - 3) / 2 + 1, (input.Width - 3) / 2 + 1);
        if (h < 1 || w < 1) throw new ArgumentException($"NASNet: input {input} is too small for the ImageNet stem (3×3 stride-2 conv without padding)");
        var kinds = new List<(bool Reduction, int Filters)>();
        if (Stem == NasNetStem.ImageNet) { kinds.Add((true, Filters / 4)); kinds.Add((true, Filters / 2)); }
        int aux = -1;
        for (int s = 0; s < Stages; s++)
        {
            if (s > 0) kinds.Add((true, Filters << s));
            for (int i = 0; i < CellsPerStage; i++) kinds.Add((false, Filters << s));
            if (s == 1) aux = kinds.Count - 1;
        }
        var cells = new CellSlot[kinds.Count];
        (int ch, int cw, int ph, int pw) = (h, w, h, w);
        for (int i = 0; i < cells.Length; i++)
        {
            (bool reduction, int filters) = kinds[i];
            (int oh, int ow) = reduction ? (NasNetOps.OutSize(ch, 1, 2), NasNetOps.OutSize(cw, 1, 2)) : (ch, cw);
            cells[i] = new CellSlot(i, reduction, filters, i > 0 && kinds[i - 1].Reduction, ch, cw, ph, pw, oh, ow);
            (ph, pw, ch, cw) = (ch, cw, oh, ow);
        }
        return new Plan(cells, h, w, aux);
    }

    // ---- IArchitecture ----

    /// <inheritdoc/>
    public Module<Tensor, Tensor> Build(InputSpec input) => new NasNetNetwork(this, input);

    /// <summary>Parameters, multiply-accumulates, depth and activations of the network <see cref="Build"/> makes, aux head
    /// included when <see cref="AuxHead"/> is on (so that <c>Parameters == Build(input).ParameterCount()</c>).</summary>
    public ArchitectureCost Cost(InputSpec input) => Cost(input, includeAuxHead: AuxHead);

    /// <summary>The cost with or without the auxiliary head (which only training uses; the paper's parameter counts leave
    /// it out).</summary>
    public ArchitectureCost Cost(InputSpec input, bool includeAuxHead)
    {
        Validated();
        Plan plan = Layout(input);
        var c = new CostCounter();
        int stem = StemChannels;
        if (Stem == NasNetStem.Cifar) c.ConvSame(input.Channels, stem, input.Height, input.Width, 3);
        else c.Conv(input.Channels, stem, input.Height, input.Width, 3, 3, 2);
        c.BatchNorm(stem, plan.StemH, plan.StemW);
        int current = stem;
        int? previous = null;
        foreach (CellSlot s in plan.Cells)
        {
            (int outChannels, _, _) = NasNetCellModule.Count(c, s.Reduction ? Reduction : Normal, s.Reduction, s.Filters, current, previous,
                s.PreviousIsLarger, s.InH, s.InW, s.PreviousH, s.PreviousW);
            (previous, current) = (current, outChannels);
            if (includeAuxHead && s.Index == plan.AuxAfterCell) NasNetAuxHead.Count(c, current, s.OutH, s.OutW, input.NumClasses);
        }
        CellSlot last = plan.Cells[^1];
        c.Elementwise(current, last.OutH, last.OutW);
        c.Elementwise(current, 1, 1);
        c.Linear(current, input.NumClasses);
        return c.Result;
    }

    /// <inheritdoc/>
    public string Describe()
    {
        string cells = IsNasNetA ? "NASNet-A" : $"normal {Normal}, reduction {Reduction}";
        string extras = (AuxHead ? ", aux head" : "") + (DropPathKeepProb < 1 ? $", drop-path keep {Fmt(DropPathKeepProb)}" : "");
        return $"nasnet {CellsPerStage} @ {PenultimateFilters} (F={Filters}, {StemName(Stem)} stem{extras}) {cells}";
    }

    // ---- decisions ----

    /// <summary>Number of choices of each of the 2 × 5B decisions (normal cell first, then reduction cell).</summary>
    public static int[] DecisionChoices(int blocks = NasNetCell.DefaultBlocks)
    {
        int[] one = NasNetCell.DecisionChoices(blocks);
        return [.. one, .. one];
    }

    /// <summary>Both cells as 2 × 5B decisions, normal cell first (explicit outputs are not part of the decision space).</summary>
    public int[] ToDecisions()
    {
        if (Normal.Blocks.Count != Reduction.Blocks.Count)
            throw new InvalidOperationException($"NASNet: the decision form needs equal B in both cells, found {Normal.Blocks.Count} and {Reduction.Blocks.Count}");
        return [.. Normal.ToDecisions(), .. Reduction.ToDecisions()];
    }

    /// <summary>This genotype with both cells replaced by those of <paramref name="decisions"/> (2 × 5B values, normal
    /// cell first; outputs = unused states); every other setting kept.</summary>
    public NasNetGenotype WithDecisions(ReadOnlySpan<int> decisions)
    {
        if (decisions.Length == 0 || decisions.Length % (2 * NasNetCell.DecisionsPerBlock) != 0)
            throw new GenotypeException($"NASNet decisions: expected 2 × 5B values, found {decisions.Length}");
        int half = decisions.Length / 2;
        return this with
        {
            Normal = NasNetCell.FromDecisions(decisions[..half], "decisions: normal"),
            Reduction = NasNetCell.FromDecisions(decisions[half..], "decisions: reduction"),
        };
    }

    /// <summary>A search child from 2 × 5B decisions: by default N = 2 and F = 16 (2 @ 384 for NASNet-A-shaped cells),
    /// CIFAR stem, no aux head, no drop-path.</summary>
    public static NasNetGenotype FromDecisions(ReadOnlySpan<int> decisions, int cellsPerStage = 2, int filters = 16) =>
        new NasNetGenotype(NasNetCell.NasNetANormal, NasNetCell.NasNetAReduction, cellsPerStage, filters).WithDecisions(decisions).Validated();

    // ---- JSON ----

    /// <inheritdoc/>
    public JsonObject ToJson() => new()
    {
        ["kind"] = KindName,
        ["cellsPerStage"] = CellsPerStage,
        ["filters"] = Filters,
        ["stem"] = StemName(Stem),
        ["stemMultiplier"] = StemMultiplier,
        ["auxHead"] = AuxHead,
        ["dropPathKeepProb"] = DropPathKeepProb,
        ["denseDropout"] = DenseDropout,
        ["normal"] = Normal.ToJson(),
        ["reduction"] = Reduction.ToJson(),
    };

    /// <summary>Reads the JSON form; errors name the field (and, inside a cell, the block).</summary>
    public static NasNetGenotype FromJson(JsonObject o, string source)
    {
        int n = ArchitectureJson.IntField(ArchitectureJson.Field(o, "cellsPerStage", source), "cellsPerStage", source);
        int f = ArchitectureJson.IntField(ArchitectureJson.Field(o, "filters", source), "filters", source);
        NasNetStem stem = NasNetStem.Cifar;
        if (o["stem"] is JsonNode sn)
        {
            string name = String(sn, "stem", source);
            stem = name switch
            {
                "cifar" => NasNetStem.Cifar,
                "imagenet" => NasNetStem.ImageNet,
                _ => throw new GenotypeException($"{source}: field \"stem\" must be \"cifar\" or \"imagenet\", found \"{name}\""),
            };
        }
        bool aux = false;
        if (o["auxHead"] is JsonNode an)
        {
            if (an is not JsonValue av || !av.TryGetValue(out aux))
                throw new GenotypeException($"{source}: field \"auxHead\" must be true or false, found {an.ToJsonString()}");
        }
        double keep = Number(o, "dropPathKeepProb", 1.0, source);
        double multiplier = Number(o, "stemMultiplier", 3.0, source);
        double dropout = Number(o, "denseDropout", 0.0, source);
        NasNetCell normal = Cell(ArchitectureJson.Field(o, "normal", source), NasNetCell.NasNetANormal, $"{source}: normal");
        NasNetCell reduction = Cell(ArchitectureJson.Field(o, "reduction", source), NasNetCell.NasNetAReduction, $"{source}: reduction");
        return new NasNetGenotype(normal, reduction, n, f, stem, aux, keep, multiplier, dropout).Validated(source);
    }

    private static NasNetCell Cell(JsonNode node, NasNetCell nasNetA, string where)
    {
        if (node is JsonValue v && v.TryGetValue(out string? name))
            return name == "nasnet-a" ? nasNetA : throw new GenotypeException($"{where}: the only named cell is \"nasnet-a\", found \"{name}\"");
        return NasNetCell.FromJson(node, where);
    }

    private static string String(JsonNode node, string field, string source) =>
        node is JsonValue v && v.TryGetValue(out string? s) ? s : throw new GenotypeException($"{source}: field \"{field}\" must be a string, found {node.ToJsonString()}");

    private static double Number(JsonObject o, string field, double fallback, string source)
    {
        if (o[field] is not JsonNode node) return fallback;
        try { return node.GetValue<double>(); }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        { throw new GenotypeException($"{source}: field \"{field}\" must be a number, found {node.ToJsonString()}"); }
    }

    private static string StemName(NasNetStem stem) => stem == NasNetStem.Cifar ? "cifar" : "imagenet";

    private static string Fmt(double x) => x.ToString("0.###", CultureInfo.InvariantCulture);
}
