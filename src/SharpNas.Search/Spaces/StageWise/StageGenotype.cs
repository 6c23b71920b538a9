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
}

/// <summary>
/// A staged network (the stage-wise search's genotype): a module kind, the number of modules in each stage, and
/// the first stage's width (doubled at each later stage, with down-sampling between stages).
/// <c>new StageGenotype(StageModule.Basic, [3, 3, 3])</c> is ResNet-20. JSON:
/// <c>{"kind": "stages", "module": "basic", "depths": [3, 3, 3], "width": 16, "shortcut": "A"}</c>.
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
        if (Width is < 1 or > 4096) throw new GenotypeException($"{source}: field \"width\" must be in 1..4096, found {Width}");
        return this;
    }

    private int[] Widths => Enumerable.Range(0, Depths.Count).Select(i => Width << i).ToArray();

    /// <inheritdoc/>
    public string Describe() => $"{Module.ToString().ToLowerInvariant()} [{string.Join(", ", Depths)}] × {Width}";

    /// <inheritdoc/>
    public JsonObject ToJson()
    {
        var depths = new JsonArray();
        foreach (int d in Depths) depths.Add(d);
        return new JsonObject
        {
            ["kind"] = KindName,
            ["module"] = Module.ToString().ToLowerInvariant(),
            ["depths"] = depths,
            ["width"] = Width,
            ["shortcut"] = Shortcut == ShortcutKind.ZeroPad ? "A" : "B",
        };
    }

    /// <summary>Reads the JSON form; errors name the field.</summary>
    public static StageGenotype FromJson(JsonObject o, string source)
    {
        string module = ArchitectureJson.Field(o, "module", source).GetValue<string>();
        StageModule kind = module switch
        {
            "basic" => StageModule.Basic,
            _ => throw new GenotypeException($"{source}: field \"module\" must be \"basic\", found \"{module}\""),
        };
        if (ArchitectureJson.Field(o, "depths", source) is not JsonArray arr)
            throw new GenotypeException($"{source}: field \"depths\" must be an array of integers");
        int[] depths = arr.Select((d, i) => ArchitectureJson.IntField(d ?? JsonValue.Create(0), $"depths[{i}]", source)).ToArray();
        int width = o["width"] is JsonNode w ? ArchitectureJson.IntField(w, "width", source) : 16;
        string shortcut = o["shortcut"]?.GetValue<string>() ?? "A";
        ShortcutKind sk = shortcut switch
        {
            "A" => ShortcutKind.ZeroPad,
            "B" => ShortcutKind.Projection,
            _ => throw new GenotypeException($"{source}: field \"shortcut\" must be \"A\" or \"B\", found \"{shortcut}\""),
        };
        return new StageGenotype(kind, depths, width, sk).Validated(source);
    }

    /// <inheritdoc/>
    public Module<Tensor, Tensor> Build(InputSpec input) =>
        new ResNet(Depths, input.NumClasses, input.Channels, Widths, Shortcut);

    /// <inheritdoc/>
    public ArchitectureCost Cost(InputSpec input)
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
                int stride = s > 0 && b == 0 ? 2 : 1, cout = widths[s];
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
                c.Elementwise(cout, oh, ow);   // addition
                c.Elementwise(cout, oh, ow);   // ReLU
                (h, w, channels) = (oh, ow, cout);
            }
        c.Elementwise(channels, 1, 1);
        c.Linear(channels, input.NumClasses);
        return c.Result;
    }
}
