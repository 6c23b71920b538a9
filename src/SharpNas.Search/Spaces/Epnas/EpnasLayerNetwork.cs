using SharpNas.Engine;
using SharpNas.Engine.Functional;
using SharpNas.Engine.Modules;
using SharpNas.Training;

namespace SharpNas.Search.Spaces.Epnas;

/// <summary>
/// The network of an <see cref="EpnasLayerGenotype"/>. State-dict names: <c>stem_conv</c>, <c>stem_bn</c>,
/// <c>layers.{i}</c> (inside: <c>conv</c> or <c>depthwise</c> + <c>pointwise</c>, <c>bn</c>, <c>skip</c>), <c>classifier</c>.
/// </summary>
public sealed class EpnasLayerNetwork : EpnasNetwork
{
    private readonly List<EpnasLayerModule> _layers;
    private readonly int[] _looseEnds;
    private readonly Linear _classifier;

    /// <summary>The genotype.</summary>
    public EpnasLayerGenotype Genotype { get; }

    /// <summary>Builds the network; parameters are zero until initialised or loaded.</summary>
    public EpnasLayerNetwork(EpnasLayerGenotype genotype, InputSpec input) : this(genotype, input, genotype.Layout(input)) { }

    private EpnasLayerNetwork(EpnasLayerGenotype genotype, InputSpec input, (FeatureShape[] Nodes, EpnasLayerGenotype.Slot[] Slots, int[] LooseEnds) layout)
        : base(input, genotype.StemChannels)
    {
        Genotype = genotype;
        (FeatureShape[] nodes, EpnasLayerGenotype.Slot[] slots, int[] loose) = layout;
        _layers = RegisterList("layers", slots.Select((slot, i) => new EpnasLayerModule(genotype.Layers[i], slot)));
        _looseEnds = loose;
        _classifier = RegisterModule("classifier", new Linear(loose.Sum(n => nodes[n].C), input.NumClasses));
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        var nodes = new Tensor[_layers.Count + 1];
        nodes[0] = F.Relu(Stem(x));
        for (int i = 0; i < _layers.Count; i++)
        {
            EpnasLayer l = Genotype.Layers[i];
            nodes[i + 1] = _layers[i].Forward(nodes[l.Src1], l.Src2 >= 0 ? nodes[l.Src2] : null);
        }
        Tensor[] features = _looseEnds.Select(n => F.GlobalAvgPool(nodes[n])).ToArray();
        return _classifier.Forward(features.Length == 1 ? features[0] : F.ConcatChannels(features));
    }
}

/// <summary>One layer of an <see cref="EpnasLayerNetwork"/>; a static <see cref="Count"/> beside the constructor adds
/// exactly the layers it builds to the cost, so the cost model and the network cannot drift apart.</summary>
public sealed class EpnasLayerModule : Module<Tensor, Tensor?, Tensor>
{
    private readonly EpnasLayer _layer;
    private readonly Conv2d? _conv, _pointwise;
    private readonly BatchNorm2d? _bn;
    private readonly SkipAdapterModule? _skip;

    internal EpnasLayerModule(EpnasLayer layer, EpnasLayerGenotype.Slot slot)
    {
        _layer = layer;
        int cin = slot.In.C, convOut = ConvChannels(layer), k = layer.FilterWidth;
        if (layer.Type == EpnasLayerType.Conv2d)
            _conv = RegisterModule("conv", new Conv2d(cin, convOut, k, 1, k / 2));
        else if (layer.Type == EpnasLayerType.SepConv2d)
        {
            _conv = RegisterModule("depthwise", new Conv2d(cin, cin, k, 1, k / 2, groups: cin));
            _pointwise = RegisterModule("pointwise", new Conv2d(cin, convOut, 1));
        }
        if (layer.IsConv) _bn = RegisterModule("bn", new BatchNorm2d(convOut));
        if (slot.Adapter is SkipAdapter a) _skip = RegisterModule("skip", new SkipAdapterModule(a));
    }

    private static int ConvChannels(EpnasLayer l) => l.Activation == EpnasActivation.CRelu ? l.Channels / 2 : l.Channels;

    internal static void Count(EpnasCostCounter c, EpnasLayer l, EpnasLayerGenotype.Slot s)
    {
        s.Adapter?.Count(c);
        long skipIn = s.Skip is null ? 0 : s.Out.Elements;
        int cin = s.In.C, k = l.FilterWidth, convOut = ConvChannels(l);
        if (l.IsConv)
        {
            long weights = 2L * convOut;
            if (l.Type == EpnasLayerType.Conv2d)
            {
                c.Counter.ConvSame(cin, convOut, s.In.H, s.In.W, k);
                weights += (long)cin * convOut * k * k;
            }
            else
            {
                c.Counter.ConvSame(cin, cin, s.In.H, s.In.W, k, groups: cin);
                c.Counter.Conv(cin, convOut, s.In.H, s.In.W, 1, 1);
                weights += (long)cin * k * k + (long)cin * convOut;
            }
            c.Counter.BatchNorm(convOut, s.Out.H, s.Out.W);
            c.Counter.Elementwise(s.Out.C, s.Out.H, s.Out.W);
            c.Move(weights, s.In.Elements + skipIn, s.Out.Elements);
        }
        else
        {
            c.Counter.Elementwise(s.Out.C, s.Out.H, s.Out.W);
            c.Move(0, s.In.Elements + skipIn, s.Out.Elements);
        }
        if (s.Skip is not null && l.Type != EpnasLayerType.Add) c.Counter.Elementwise(s.Out.C, s.Out.H, s.Out.W);
    }

    /// <summary>The layer's output from its source and, when it has one, its skip source.</summary>
    public override Tensor Forward(Tensor src1, Tensor? src2)
    {
        Tensor y = _layer.Type switch
        {
            EpnasLayerType.Conv2d => EpnasTables.Apply(_layer.Activation, _bn!.Forward(_conv!.Forward(src1))),
            EpnasLayerType.SepConv2d => EpnasTables.Apply(_layer.Activation, _bn!.Forward(_pointwise!.Forward(_conv!.Forward(src1)))),
            EpnasLayerType.MaxPool => F.MaxPool2d(src1, Pool(_layer.PoolWidth)),
            EpnasLayerType.AvgPool => F.AvgPool2d(src1, Pool(_layer.PoolWidth)),
            _ => src1,
        };
        if (src2 is null) return y;
        return F.Add(y, _skip is null ? src2 : _skip.Forward(src2));
    }

    private static Pool2dOptions Pool(int p) => Pool2dOptions.Square(p, 2, (p - 1) / 2, countIncludePad: false);
}
