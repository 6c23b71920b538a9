using System.Text.Json.Nodes;
using SharpNas.Engine;
using SharpNas.Engine.Models;
using SharpNas.Engine.Modules;
using SharpNas.Search.Genotypes;
using SharpNas.Training;
using SharpNas.Training.Cost;

namespace SharpNas.Search.Spaces.StageWise;

/// <summary>The module a stage is built from.</summary>
public enum StageModule
{
    /// <summary>Basic residual block (two 3×3 convs), as CIFAR ResNets.</summary>
    Basic,
    /// <summary>Bottleneck residual block (1×1 reduce, 3×3, 1×1 expand ×4), as CIFAR ResNet-164.</summary>
    Bottleneck,
    /// <summary>NASNet-A normal cell; a NASNet-A reduction cell sits between stages.</summary>
    Cell,
}

/// <summary>
/// A staged network (the stage-wise search's genotype): a module kind, the number of modules in each stage, and
/// the first stage's width (doubled at each later stage, with down-sampling between stages).
/// <list type="bullet">
/// <item><see cref="StageModule.Basic"/>: a CIFAR ResNet (<see cref="ResNet"/>); <c>new StageGenotype(StageModule.Basic, [3, 3, 3])</c>
/// is ResNet-20. <see cref="Shortcut"/> chooses option A or B where the shape changes.</item>
/// <item><see cref="StageModule.Bottleneck"/>: a ResNet of <see cref="BottleneckBlock"/>s; the width is the blocks' inner
/// width (stage outputs are 4×); [18, 18, 18] is ResNet-164. Shortcuts are projections where the shape changes
/// (<see cref="Shortcut"/> is ignored).</item>
/// <item><see cref="StageModule.Cell"/>: a <see cref="CellStageNetwork"/> of NASNet-A cells; the width is F, the first
/// stage's filters per op; a depth is the number of normal cells of the stage (<see cref="Shortcut"/> is ignored).</item>
/// </list>
/// JSON: <c>{"kind": "stages", "module": "basic", "depths": [3, 3, 3], "width": 16, "shortcut": "A"}</c>; <c>"module"</c>
/// is <c>"basic"</c> (the default when absent), <c>"bottleneck"</c> or <c>"cell"</c>; <c>"shortcut"</c> is written for
/// basic modules only.
/// </summary>
public sealed record StageGenotype(StageModule Module, IReadOnlyList<int> Depths, int Width = 16, ShortcutKind Shortcut = ShortcutKind.ZeroPad) : IArchitecture
{
    /// <summary>The JSON kind.</summary>
    public const string KindName = "stages";

    /// <inheritdoc/>
    public string Kind => KindName;

    /// <summary>ResNet-(6n+2) for CIFAR: n basic blocks in each of 3 stages.</summary>
    public static StageGenotype ResNet(int depth)
    {
        if (depth < 8 || (depth - 2) % 6 != 0) throw new GenotypeException($"resnet{depth}: depth must be 6n+2 (20, 32, 44, 56, 110, …)");
        int n = (depth - 2) / 6;
        return new StageGenotype(StageModule.Basic, [n, n, n]);
    }

    /// <summary>Checks the fields; errors name the field.</summary>
    public StageGenotype Validated(string source = "genotype")
    {
        if (Depths.Count is < 1 or > 6) throw new GenotypeException($"{source}: field \"depths\" must list 1 to 6 stages, found {Depths.Count}");
        for (int i = 0; i < Depths.Count; i++)
            if (Depths[i] is < 1 or > 1000) throw new GenotypeException($"{source}: field \"depths\"[{i}] must be in 1..1000, found {Depths[i]}");
        if (!Enum.IsDefined(Module)) throw new GenotypeException($"{source}: field \"module\" must be basic, bottleneck or cell, found {(int)Module}");
        if (Width is < 1 or > 4096) throw new GenotypeException($"{source}: field \"width\" must be in 1..4096, found {Width}");
        return this;
    }

    private int[] Widths => Enumerable.Range(0, Depths.Count).Select(i => Width << i).ToArray();

    /// <inheritdoc/>
    public string Describe() => $"{ModuleName(Module)} [{string.Join(", ", Depths)}] × {Width}";

    /// <summary>The JSON name of a module kind: <c>basic</c>, <c>bottleneck</c>, <c>cell</c>.</summary>
    public static string ModuleName(StageModule module) => module switch
    {
        StageModule.Basic => "basic",
        StageModule.Bottleneck => "bottleneck",
        StageModule.Cell => "cell",
        _ => throw new ArgumentOutOfRangeException(nameof(module), $"unknown stage module {(int)module}"),
    };

    /// <inheritdoc/>
    public JsonObject ToJson()
    {
        var depths = new JsonArray();
        foreach (int d in Depths) depths.Add(d);
        var o = new JsonObject
        {
            ["kind"] = KindName,
            ["module"] = ModuleName(Module),
            ["depths"] = depths,
            ["width"] = Width,
        };
        if (Module == StageModule.Basic) o["shortcut"] = Shortcut == ShortcutKind.ZeroPad ? "A" : "B";
        return o;
    }

    /// <summary>Reads the JSON form; errors name the field.</summary>
    public static StageGenotype FromJson(JsonObject o, string source)
    {
        string module = o["module"] is JsonNode m ? StringField(m, "module", source) : "basic";
        StageModule kind = module switch
        {
            "basic" => StageModule.Basic,
            "bottleneck" => StageModule.Bottleneck,
            "cell" => StageModule.Cell,
            _ => throw new GenotypeException($"{source}: field \"module\" must be \"basic\", \"bottleneck\" or \"cell\", found \"{module}\""),
        };
        if (ArchitectureJson.Field(o, "depths", source) is not JsonArray arr)
            throw new GenotypeException($"{source}: field \"depths\" must be an array of integers");
        int[] depths = arr.Select((d, i) => ArchitectureJson.IntField(d ?? JsonValue.Create(0), $"depths[{i}]", source)).ToArray();
        int width = o["width"] is JsonNode w ? ArchitectureJson.IntField(w, "width", source) : 16;
        string shortcut = o["shortcut"] is JsonNode sc ? StringField(sc, "shortcut", source) : "A";
        ShortcutKind sk = shortcut switch
        {
            "A" => ShortcutKind.ZeroPad,
            "B" => ShortcutKind.Projection,
            _ => throw new GenotypeException($"{source}: field \"shortcut\" must be \"A\" or \"B\", found \"{shortcut}\""),
        };
        return new StageGenotype(kind, depths, width, sk).Validated(source);
    }

    private static string StringField(JsonNode node, string name, string source)
    {
        try { return node.GetValue<string>(); }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        { throw new GenotypeException($"{source}: field \"{name}\" must be a string, found {node.ToJsonString()}"); }
    }

    /// <inheritdoc/>
    public Module<Tensor, Tensor> Build(InputSpec input) => Module switch
    {
        StageModule.Bottleneck => new ResNet(Depths, input.NumClasses, input.Channels, Widths, ShortcutKind.Projection, ResidualBlockKind.Bottleneck),
        StageModule.Cell => new CellStageNetwork(Depths, Width, input),
        _ => new ResNet(Depths, input.NumClasses, input.Channels, Widths, Shortcut),
    };

    /// <inheritdoc/>
    public ArchitectureCost Cost(InputSpec input) => Module switch
    {
        StageModule.Bottleneck => BottleneckCost(input),
        StageModule.Cell => CellStageNetwork.Cost(Depths, Width, input),
        _ => BasicCost(input),
    };

    /// <summary>A ResNet's cost: the stem (3×3 conv, BN, ReLU), every block as <paramref name="block"/> counts it, then
    /// the addition and ReLU that end each block, the global pooling and the classifier.</summary>
    private ArchitectureCost ResNetCost(InputSpec input, BlockCost block)
    {
        var c = new CostCounter();
        int[] widths = Widths;
        (int h, int w) = c.ConvSame(input.Channels, widths[0], input.Height, input.Width, 3);
        c.BatchNorm(widths[0], h, w);
        c.Elementwise(widths[0], h, w);
        int channels = widths[0];
        for (int s = 0; s < Depths.Count; s++)
            for (int b = 0; b < Depths[s]; b++)
            {
                (int oh, int ow, int cout) = block(c, channels, h, w, widths[s], s > 0 && b == 0 ? 2 : 1);
                c.Elementwise(cout, oh, ow);   // addition
                c.Elementwise(cout, oh, ow);   // ReLU
                (h, w, channels) = (oh, ow, cout);
            }
        c.Elementwise(channels, 1, 1);
        c.Linear(channels, input.NumClasses);
        return c.Result;
    }

    /// <summary>Counts one block (up to its addition) reading <paramref name="channels"/> × <paramref name="h"/> ×
    /// <paramref name="w"/> in a stage of width <paramref name="width"/>; returns its output size and channels.</summary>
    private delegate (int H, int W, int C) BlockCost(CostCounter c, int channels, int h, int w, int width, int stride);

    private ArchitectureCost BottleneckCost(InputSpec input) => ResNetCost(input, (c, channels, h, w, inner, stride) =>
    {
        int cout = BottleneckBlock.Expansion * inner;
        c.Conv(channels, inner, h, w, 1, 1);
        c.BatchNorm(inner, h, w);
        c.Elementwise(inner, h, w);
        (int oh, int ow) = c.ConvSame(inner, inner, h, w, 3, stride);
        c.BatchNorm(inner, oh, ow);
        c.Elementwise(inner, oh, ow);
        c.Conv(inner, cout, oh, ow, 1, 1);
        c.BatchNorm(cout, oh, ow);
        if (stride != 1 || channels != cout)
        {
            c.Conv(channels, cout, h, w, 1, 1, stride);
            c.BatchNorm(cout, oh, ow);
        }
        return (oh, ow, cout);
    });

    private ArchitectureCost BasicCost(InputSpec input) => ResNetCost(input, (c, channels, h, w, cout, stride) =>
    {
        (int oh, int ow) = c.ConvSame(channels, cout, h, w, 3, stride);
        c.BatchNorm(cout, oh, ow);
        c.Elementwise(cout, oh, ow);
        c.ConvSame(cout, cout, oh, ow, 3);
        c.BatchNorm(cout, oh, ow);
        if ((stride != 1 || channels != cout) && Shortcut == ShortcutKind.Projection)
        {
            c.Conv(channels, cout, h, w, 1, 1, stride);
            c.BatchNorm(cout, oh, ow);
        }
        else if (stride != 1 || channels != cout) c.Elementwise(cout, oh, ow);
        return (oh, ow, cout);
    });
}
