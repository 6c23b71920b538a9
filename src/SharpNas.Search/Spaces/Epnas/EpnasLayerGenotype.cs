using System.Text.Json.Nodes;
using SharpNas.Engine;
using SharpNas.Engine.Modules;
using SharpNas.Search.Genotypes;
using SharpNas.Training;
using SharpNas.Training.Cost;

namespace SharpNas.Search.Spaces.Epnas;

/// <summary>
/// One layer of a layer-by-layer EPNAS network. Sources are <i>node</i> indices: node 0 is the stem's output and node
/// j ≥ 1 the output of layer j − 1, so layer i reads nodes 0..i. <see cref="Src2"/> = −1 means no skip.
/// Fields a type does not use are kept but ignored: pooling and add layers ignore filter width, channels and
/// activation (their output has their input's channels); conv layers ignore the pooling width.
/// </summary>
public sealed record EpnasLayer(EpnasLayerType Type, int FilterWidth, int PoolWidth, int Channels, EpnasActivation Activation, int Src1, int Src2 = -1)
{
    /// <summary>True for conv2d and sepconv2d.</summary>
    public bool IsConv => Type is EpnasLayerType.Conv2d or EpnasLayerType.SepConv2d;
    /// <summary>True for maxpool and avgpool.</summary>
    public bool IsPool => Type is EpnasLayerType.MaxPool or EpnasLayerType.AvgPool;

    /// <summary>The JSON form.</summary>
    public JsonObject ToJson() => new()
    {
        ["type"] = EpnasTables.Name(Type),
        ["filterWidth"] = FilterWidth,
        ["poolWidth"] = PoolWidth,
        ["channels"] = Channels,
        ["activation"] = EpnasTables.Name(Activation),
        ["src1"] = Src1,
        ["src2"] = Src2,
    };

    /// <summary>Reads the JSON form; <paramref name="where"/> names the layer in errors. Fields other than type and
    /// src1 are optional (filter width 3, pool width 2, 32 channels, relu, src2 −1).</summary>
    public static EpnasLayer FromJson(JsonNode node, string where)
    {
        if (node is not JsonObject o) throw new GenotypeException($"{where}: a layer must be a JSON object, found {node.ToJsonString()}");
        var type = (EpnasLayerType)EpnasTables.Parse(EpnasTables.LayerTypeNames, Str(ArchitectureJson.Field(o, "type", where), "type", where), where, "type");
        var act = o["activation"] is JsonNode an
            ? (EpnasActivation)EpnasTables.Parse(EpnasTables.ActivationNames, Str(an, "activation", where), where, "activation") : EpnasActivation.Relu;
        return new EpnasLayer(type, Int(o, "filterWidth", 3, where), Int(o, "poolWidth", 2, where), Int(o, "channels", 32, where), act,
            ArchitectureJson.IntField(ArchitectureJson.Field(o, "src1", where), "src1", where), Int(o, "src2", -1, where));
    }

    internal static int Int(JsonObject o, string field, int fallback, string where) =>
        o[field] is JsonNode n ? ArchitectureJson.IntField(n, field, where) : fallback;

    internal static string Str(JsonNode n, string field, string where) =>
        n is JsonValue v && v.TryGetValue(out string? s) ? s : throw new GenotypeException($"{where}: field \"{field}\" must be a string, found {n.ToJsonString()}");
}

/// <summary>
/// A layer-by-layer EPNAS network (paper §3.3, Table 3 left): a stem (3×3 conv with <see cref="StemChannels"/> filters,
/// BN, ReLU), the <see cref="Layers"/> in order, and a head that global-average-pools every <i>loose end</i> (a layer
/// output no later layer reads; the last layer always is one), concatenates them and applies a dense classifier.
/// <para>Conv layers use "same" padding (stride 1); pooling layers use kernel p, stride 2, padding ⌊(p−1)/2⌋ (so p = 2
/// gives ⌊H/2⌋ and p = 3 gives ⌈H/2⌉). A skip (src2) is added after the activation; its shape is matched by a
/// <see cref="SkipAdapter"/>. A CReLU layer's conv has half the layer's channels.</para>
/// <para>JSON (<c>"kind": "epnas-layer"</c>): <c>{"kind": "epnas-layer", "stemChannels": 32, "layers": [{"type": "conv2d",
/// "filterWidth": 3, "poolWidth": 2, "channels": 32, "activation": "relu", "src1": 0, "src2": -1}, …]}</c>.</para>
/// </summary>
public sealed record EpnasLayerGenotype(IReadOnlyList<EpnasLayer> Layers, int StemChannels = 32) : IEpnasGenotype
{
    /// <summary>The JSON kind.</summary>
    public const string KindName = "epnas-layer";

    /// <inheritdoc/>
    public string Kind => KindName;

    /// <summary>Checks every field; errors name the layer and the field. Returns this.</summary>
    public EpnasLayerGenotype Validated(string source = "genotype")
    {
        EpnasTables.CheckCount(Layers, EpnasTables.MaxLayers, "layers", "layer", source);
        if (StemChannels is < 1 or > 1024) throw new GenotypeException($"{source}: field \"stemChannels\" must be in 1..1024, found {StemChannels}");
        for (int i = 0; i < Layers.Count; i++)
        {
            EpnasLayer l = Layers[i];
            string where = $"{source}: layer {i}";
            if (!Enum.IsDefined(l.Type)) throw new GenotypeException($"{where}: field \"type\" is unknown ({(int)l.Type})");
            if (!Enum.IsDefined(l.Activation)) throw new GenotypeException($"{where}: field \"activation\" is unknown ({(int)l.Activation})");
            EpnasTables.CheckIn(EpnasTables.FilterWidths, l.FilterWidth, where, "filterWidth");
            EpnasTables.CheckIn(EpnasTables.PoolWidths, l.PoolWidth, where, "poolWidth");
            EpnasTables.CheckIn(EpnasTables.LayerChannels, l.Channels, where, "channels");
            if (l.Src1 < 0 || l.Src1 > i)
                throw new GenotypeException($"{where}: field \"src1\" must be a node in 0..{i} (0 is the stem, j the output of layer j − 1), found {l.Src1}");
            if (l.Src2 < -1 || l.Src2 > i)
                throw new GenotypeException($"{where}: field \"src2\" must be −1 (no skip) or a node in 0..{i}, found {l.Src2}");
            if (l.Type == EpnasLayerType.Add && l.Src2 < 0)
                throw new GenotypeException($"{where}: field \"src2\" must name a node for an add layer, found {l.Src2}");
        }
        return this;
    }

    // ---- layout shared by the builder and the cost model ----

    /// <summary>Where each layer sits: its inputs' shapes, its output shape, its skip adapter (null when the skip
    /// needs none or there is no skip).</summary>
    internal readonly record struct Slot(FeatureShape In, FeatureShape Out, FeatureShape? Skip, SkipAdapter? Adapter);

    /// <summary>The shapes of every node and the loose ends, for <paramref name="input"/>; a layer whose pooling
    /// empties the map or whose skip cannot be matched is an error naming it.</summary>
    internal (FeatureShape[] Nodes, Slot[] Slots, int[] LooseEnds) Layout(InputSpec input, string source = "genotype")
    {
        Validated(source);
        if (input.Channels < 1 || input.Height < 1 || input.Width < 1 || input.NumClasses < 1)
            throw new ArgumentException($"EPNAS: bad input {input}");
        var nodes = new FeatureShape[Layers.Count + 1];
        var slots = new Slot[Layers.Count];
        nodes[0] = new FeatureShape(StemChannels, input.Height, input.Width);
        var read = new bool[Layers.Count + 1];
        for (int i = 0; i < Layers.Count; i++)
        {
            EpnasLayer l = Layers[i];
            string where = $"{source}: layer {i}";
            FeatureShape x = nodes[l.Src1];
            read[l.Src1] = true;
            FeatureShape y = l.Type switch
            {
                EpnasLayerType.Conv2d or EpnasLayerType.SepConv2d => x with { C = l.Channels },
                EpnasLayerType.MaxPool or EpnasLayerType.AvgPool => x with { H = PoolOut(x.H, l.PoolWidth), W = PoolOut(x.W, l.PoolWidth) },
                _ => x,
            };
            if (y.H < 1 || y.W < 1) throw new GenotypeException($"{where}: pooling of width {l.PoolWidth} empties the {x.H}×{x.W} map (field \"poolWidth\")");
            FeatureShape? skip = null;
            SkipAdapter? adapter = null;
            if (l.Src2 >= 0)
            {
                read[l.Src2] = true;
                skip = nodes[l.Src2];
                if (skip.Value != y)
                    adapter = SkipAdapter.Create(skip.Value, y) ?? throw new GenotypeException(
                        $"{where}: field \"src2\" = {l.Src2} ({skip.Value.H}×{skip.Value.W}) cannot be pooled onto the layer's {y.H}×{y.W} output");
            }
            slots[i] = new Slot(x, y, skip, adapter);
            nodes[i + 1] = y;
        }
        int[] loose = Enumerable.Range(1, Layers.Count).Where(n => !read[n]).ToArray();
        return (nodes, slots, loose);
    }

    /// <summary>Output size of a pooling layer of width <paramref name="p"/> (stride 2, padding ⌊(p−1)/2⌋).</summary>
    public static int PoolOut(int size, int p) => size + 2 * ((p - 1) / 2) < p ? 0 : (size + 2 * ((p - 1) / 2) - p) / 2 + 1;

    /// <summary>True when the genotype validates and lays out on <paramref name="input"/>.</summary>
    public bool IsValidFor(InputSpec input)
    {
        try { Layout(input); return true; }
        catch (GenotypeException) { return false; }
    }

    // ---- IArchitecture ----

    /// <inheritdoc/>
    public Module<Tensor, Tensor> Build(InputSpec input) => new EpnasLayerNetwork(this, input);

    /// <inheritdoc/>
    public ArchitectureCost Cost(InputSpec input) => Count(input).Counter.Result;

    /// <summary>Parameters, FLOPs, bytes moved and compute intensity (see <see cref="EpnasResources"/>).</summary>
    public EpnasResources Resources(InputSpec input) => Count(input).Resources;

    private EpnasCostCounter Count(InputSpec input)
    {
        (FeatureShape[] nodes, Slot[] slots, int[] loose) = Layout(input);
        var c = new EpnasCostCounter();
        FeatureShape stem = nodes[0];
        c.Counter.ConvSame(input.Channels, StemChannels, input.Height, input.Width, 3);
        c.Counter.BatchNorm(StemChannels, stem.H, stem.W);
        c.Counter.Elementwise(StemChannels, stem.H, stem.W);
        c.Move(9L * input.Channels * StemChannels + 2L * StemChannels, (long)input.Channels * input.Height * input.Width, stem.Elements);
        for (int i = 0; i < Layers.Count; i++) EpnasLayerModule.Count(c, Layers[i], slots[i]);
        long features = 0, inputs = 0;
        foreach (int n in loose)
        {
            c.Counter.Elementwise(nodes[n].C, 1, 1);
            features += nodes[n].C;
            inputs += nodes[n].Elements;
        }
        c.Counter.Linear((int)features, input.NumClasses);
        c.Move(features * input.NumClasses + input.NumClasses, inputs, input.NumClasses);
        return c;
    }

    /// <inheritdoc/>
    public string Describe()
    {
        string Layer(EpnasLayer l) => (l.Type switch
        {
            EpnasLayerType.Conv2d => $"conv{l.FilterWidth}x{l.FilterWidth}-{l.Channels}-{EpnasTables.Name(l.Activation)}",
            EpnasLayerType.SepConv2d => $"sep{l.FilterWidth}x{l.FilterWidth}-{l.Channels}-{EpnasTables.Name(l.Activation)}",
            EpnasLayerType.MaxPool => $"max{l.PoolWidth}",
            EpnasLayerType.AvgPool => $"avg{l.PoolWidth}",
            _ => "add",
        }) + (l.Src2 >= 0 ? $"+n{l.Src2}" : "");
        return $"epnas-layer {Layers.Count} layers (stem {StemChannels}): {string.Join(" ", Layers.Select(Layer))}";
    }

    /// <inheritdoc/>
    public JsonObject ToJson() => new()
    {
        ["kind"] = KindName,
        ["stemChannels"] = StemChannels,
        ["layers"] = new JsonArray(Layers.Select(l => (JsonNode)l.ToJson()).ToArray()),
    };

    /// <summary>Reads the JSON form; errors name the layer and field.</summary>
    public static EpnasLayerGenotype FromJson(JsonObject o, string source)
    {
        List<EpnasLayer> list = EpnasTables.ReadList(o, "layers", "layer", source, EpnasLayer.FromJson);
        return new EpnasLayerGenotype(list, EpnasLayer.Int(o, "stemChannels", 32, source)).Validated(source);
    }

    /// <summary>Value equality over the layer list (records compare lists by reference otherwise).</summary>
    public bool Equals(EpnasLayerGenotype? other) =>
        other is not null && StemChannels == other.StemChannels && Layers.SequenceEqual(other.Layers);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(StemChannels);
        foreach (EpnasLayer l in Layers) h.Add(l);
        return h.ToHashCode();
    }
}
