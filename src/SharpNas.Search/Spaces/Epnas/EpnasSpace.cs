using System.Text.Json.Nodes;
using SharpNas.Engine;
using SharpNas.Engine.Functional;
using SharpNas.Engine.Modules;
using SharpNas.Search.Genotypes;
using SharpNas.Training;
using SharpNas.Training.Cost;

namespace SharpNas.Search.Spaces.Epnas;

/// <summary>Operation of a layer in the layer-by-layer pattern (EPNAS Table 3, left).</summary>
public enum EpnasLayerType
{
    /// <summary>k×k convolution → BN → activation.</summary>
    Conv2d,
    /// <summary>Depthwise-separable: depthwise k×k → pointwise 1×1 → BN → activation.</summary>
    SepConv2d,
    /// <summary>Max pooling of width p, stride 2.</summary>
    MaxPool,
    /// <summary>Average pooling of width p, stride 2.</summary>
    AvgPool,
    /// <summary>src1 + src2 (the skip is required).</summary>
    Add,
}

/// <summary>Non-linearity of a conv layer.</summary>
public enum EpnasActivation
{
    /// <summary>max(0, x).</summary>
    Relu,
    /// <summary>concat(relu(x), relu(−x)): the conv produces half the channels, CReLU doubles them.</summary>
    CRelu,
    /// <summary>ELU, α = 1.</summary>
    Elu,
    /// <summary>SELU.</summary>
    Selu,
    /// <summary>x·σ(x) (SiLU).</summary>
    Swish,
}

/// <summary>What every EPNAS genotype offers the search: its resources and a validity check for an input.</summary>
public interface IEpnasGenotype : IArchitecture
{
    /// <summary>Parameters, FLOPs, bytes moved and compute intensity, from the genotype alone.</summary>
    EpnasResources Resources(InputSpec input);

    /// <summary>True when the genotype validates and lays out on <paramref name="input"/>.</summary>
    bool IsValidFor(InputSpec input);
}

/// <summary>The value tables of the EPNAS search spaces (paper Table 3) and the names used in JSON.</summary>
public static class EpnasTables
{
    /// <summary>Filter widths k.</summary>
    public static IReadOnlyList<int> FilterWidths { get; } = [1, 3, 5, 7];
    /// <summary>Pooling widths p.</summary>
    public static IReadOnlyList<int> PoolWidths { get; } = [2, 3];
    /// <summary>Channels of a layer (layer-by-layer pattern).</summary>
    public static IReadOnlyList<int> LayerChannels { get; } = [16, 32, 64, 96, 128, 256];
    /// <summary>Channels of a branch (module pattern).</summary>
    public static IReadOnlyList<int> BranchChannels { get; } = [8, 12, 16, 24, 32];
    /// <summary>Most layers a layer-by-layer genotype may hold.</summary>
    public const int MaxLayers = 64;
    /// <summary>Most branches a cell may hold.</summary>
    public const int MaxBranches = 16;

    internal static readonly string[] LayerTypeNames = ["conv2d", "sepconv2d", "maxpool", "avgpool", "add"];
    internal static readonly string[] ActivationNames = ["relu", "crelu", "elu", "selu", "swish"];

    /// <summary>JSON name of a layer type.</summary>
    public static string Name(EpnasLayerType t) => LayerTypeNames[(int)t];
    /// <summary>JSON name of an activation.</summary>
    public static string Name(EpnasActivation a) => ActivationNames[(int)a];

    internal static int Parse(string[] names, string value, string where, string field)
    {
        int i = Array.IndexOf(names, value);
        return i >= 0 ? i : throw new GenotypeException($"{where}: field \"{field}\" must be one of {string.Join(", ", names)}, found \"{value}\"");
    }

    internal static void CheckIn(IReadOnlyList<int> allowed, int value, string where, string field)
    {
        if (!allowed.Contains(value))
            throw new GenotypeException($"{where}: field \"{field}\" must be one of {string.Join(", ", allowed)}, found {value}");
    }

    /// <summary>Checks a genotype's list field (<c>layers</c>, <c>branches</c>) holds 1 to <paramref name="max"/>
    /// elements, each a <paramref name="noun"/>.</summary>
    internal static void CheckCount<T>(IReadOnlyList<T>? list, int max, string field, string noun, string source)
    {
        if (list is null || list.Count == 0) throw new GenotypeException($"{source}: field \"{field}\" must hold at least one {noun}");
        if (list.Count > max) throw new GenotypeException($"{source}: field \"{field}\" holds {list.Count} {field}, at most {max} allowed");
    }

    /// <summary>Reads a genotype's list field (<c>layers</c>, <c>branches</c>): a JSON array whose element i
    /// <paramref name="read"/> reads, named "<paramref name="noun"/> i" in errors.</summary>
    internal static List<T> ReadList<T>(JsonObject o, string field, string noun, string source, Func<JsonNode, string, T> read)
    {
        if (ArchitectureJson.Field(o, field, source) is not JsonArray items)
            throw new GenotypeException($"{source}: field \"{field}\" must be an array");
        return items.Select((n, i) => read(n ?? throw new GenotypeException($"{source}: {noun} {i} is null"), $"{source}: {noun} {i}")).ToList();
    }

    /// <summary>Applies an activation.</summary>
    public static Tensor Apply(EpnasActivation a, Tensor x) => a switch
    {
        EpnasActivation.Relu => F.Relu(x),
        EpnasActivation.CRelu => F.CRelu(x),
        EpnasActivation.Elu => F.Elu(x),
        EpnasActivation.Selu => F.Selu(x),
        EpnasActivation.Swish => F.Silu(x),
        _ => throw new ArgumentOutOfRangeException(nameof(a), $"unknown activation {(int)a}"),
    };
}

/// <summary>
/// The resources of an EPNAS network computed from its genotype alone: parameters, FLOPs (multiply-adds of conv and
/// dense layers, as the papers count them) and bytes moved by one image's forward pass: for every layer, 4 bytes × (its
/// weights + the input activations it reads + the output activations it writes). <see cref="Intensity"/> is FLOPs per
/// byte (paper Table 5's "compute intensity").
/// </summary>
public sealed record EpnasResources(long Parameters, long Flops, long BytesMoved)
{
    /// <summary>FLOPs / bytes moved.</summary>
    public double Intensity => BytesMoved == 0 ? 0 : (double)Flops / BytesMoved;
}

/// <summary>A <see cref="CostCounter"/> plus the bytes each layer moves.</summary>
internal sealed class EpnasCostCounter
{
    public CostCounter Counter { get; } = new();
    public long Bytes { get; private set; }

    /// <summary>One layer: its weights, the activations it reads and those it writes (4 bytes each).</summary>
    public void Move(long weights, long inputs, long outputs) => Bytes += 4 * (weights + inputs + outputs);

    public EpnasResources Resources
    {
        get
        {
            ArchitectureCost c = Counter.Result;
            return new EpnasResources(c.Parameters, c.Macs, Bytes);
        }
    }
}

/// <summary>The shape of one feature map (channels, height, width).</summary>
public readonly record struct FeatureShape(int C, int H, int W)
{
    /// <summary>Elements per image.</summary>
    public long Elements => (long)C * H * W;
}

/// <summary>
/// How a skip from a source map is made to match a target map: average pooling with kernel = stride = (SH, SW) when the
/// source is larger (the smallest integer strides with ⌊H/S⌋ equal to the target's), then a 1×1 conv + BN when the
/// channels differ. A source smaller than the target, or one no integer stride maps onto it, cannot be matched.
/// </summary>
public readonly record struct SkipAdapter(FeatureShape From, FeatureShape To, int StrideH, int StrideW)
{
    /// <summary>True when pooling is needed.</summary>
    public bool Pools => StrideH > 1 || StrideW > 1;
    /// <summary>True when a 1×1 conv is needed.</summary>
    public bool Projects => From.C != To.C;

    /// <summary>The adapter from <paramref name="from"/> to <paramref name="to"/>, or null when impossible.</summary>
    public static SkipAdapter? Create(FeatureShape from, FeatureShape to)
    {
        int sh = Stride(from.H, to.H), sw = Stride(from.W, to.W);
        return sh == 0 || sw == 0 ? null : new SkipAdapter(from, to, sh, sw);
    }

    private static int Stride(int from, int to)
    {
        if (to < 1 || from < to) return 0;
        for (int s = from / to; s >= 1; s--)
            if (from / s == to) return s;
        return 0;
    }

    internal void Count(EpnasCostCounter c)
    {
        if (Pools)
        {
            c.Counter.Elementwise(From.C, To.H, To.W);
            c.Move(0, From.Elements, (long)From.C * To.H * To.W);
        }
        if (Projects)
        {
            c.Counter.Conv(From.C, To.C, To.H, To.W, 1, 1);
            c.Counter.BatchNorm(To.C, To.H, To.W);
            c.Move((long)From.C * To.C + 2L * To.C, (long)From.C * To.H * To.W, To.Elements);
        }
    }
}

/// <summary>The module of a <see cref="SkipAdapter"/>: pooling then 1×1 conv + BN, each only when needed. Children
/// <c>conv</c>, <c>bn</c>.</summary>
public sealed class SkipAdapterModule : Module<Tensor, Tensor>
{
    private readonly SkipAdapter _adapter;
    private readonly Conv2d? _conv;
    private readonly BatchNorm2d? _bn;

    /// <summary>Creates the module.</summary>
    public SkipAdapterModule(SkipAdapter adapter)
    {
        _adapter = adapter;
        if (adapter.Projects)
        {
            _conv = RegisterModule("conv", new Conv2d(adapter.From.C, adapter.To.C, 1));
            _bn = RegisterModule("bn", new BatchNorm2d(adapter.To.C));
        }
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        if (_adapter.Pools)
            x = F.AvgPool2d(x, new Pool2dOptions(_adapter.StrideH, _adapter.StrideW, _adapter.StrideH, _adapter.StrideW));
        return _conv is null ? x : _bn!.Forward(_conv.Forward(x));
    }
}
