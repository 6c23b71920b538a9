using SharpNas.Engine;
using SharpNas.Engine.Functional;
using SharpNas.Engine.Modules;
using SharpNas.Training;

namespace SharpNas.Search.Spaces.Epnas;

/// <summary>
/// The network of an <see cref="EpnasModuleGenotype"/>. State-dict names: <c>stem_conv</c>, <c>stem_bn</c>,
/// <c>cells.{i}</c> (inside: <c>preprocess</c>, <c>preprocess_bn</c>, <c>branch_{b}_first</c>, <c>branch_{b}_second</c>),
/// <c>classifier</c>.
/// </summary>
public sealed class EpnasModuleNetwork : EpnasNetwork
{
    private readonly List<EpnasCellModule> _cells;
    private readonly Linear _classifier;

    /// <summary>Builds the network; parameters are zero until initialised or loaded.</summary>
    public EpnasModuleNetwork(EpnasModuleGenotype genotype, InputSpec input) : this(genotype, input, genotype.Cells(input).ToList()) { }

    private EpnasModuleNetwork(EpnasModuleGenotype genotype, InputSpec input, List<(int Stage, bool Reduction, int InC, int H, int W, int OutH, int OutW)> cells)
        : base(input, genotype.Filters)
    {
        _cells = RegisterList("cells", cells.Select(c => new EpnasCellModule(genotype, c.Stage, c.Reduction, c.InC)));
        _classifier = RegisterModule("classifier", new Linear(genotype.CellOutChannels(cells[^1].Stage), input.NumClasses));
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        Tensor h = Stem(x);
        foreach (EpnasCellModule cell in _cells) h = cell.Forward(h);
        return _classifier.Forward(F.GlobalAvgPool(F.Relu(h)));
    }
}

/// <summary>One cell of an <see cref="EpnasModuleNetwork"/>; the static <see cref="Count"/> adds exactly what the
/// constructor builds to the cost.</summary>
public sealed class EpnasCellModule : Module<Tensor, Tensor>
{
    private readonly EpnasModuleGenotype _genotype;
    private readonly Conv2d _preprocess;
    private readonly BatchNorm2d _preprocessBn;
    private readonly (Module<Tensor, Tensor>? First, Module<Tensor, Tensor>? Second)[] _ops;

    internal EpnasCellModule(EpnasModuleGenotype genotype, int stage, bool reduction, int inChannels)
    {
        _genotype = genotype;
        int width = genotype.Filters << stage;
        _preprocess = RegisterModule("preprocess", new Conv2d(inChannels, width, 1, reduction ? 2 : 1));
        _preprocessBn = RegisterModule("preprocess_bn", new BatchNorm2d(width));
        int[] states = genotype.StateChannels(stage);
        _ops = new (Module<Tensor, Tensor>?, Module<Tensor, Tensor>?)[genotype.Branches.Count];
        for (int b = 0; b < _ops.Length; b++)
        {
            EpnasBranch br = genotype.Branches[b];
            (EpnasCellOp? first, EpnasCellOp? second) = br.Ops;
            Module<Tensor, Tensor>? m1 = first is null ? null : RegisterModule($"branch_{b}_first", Op(first.Value, states[br.Src1], br, stage));
            Module<Tensor, Tensor>? m2 = second is null ? null : RegisterModule($"branch_{b}_second", Op(second.Value, states[br.Src2], br, stage));
            _ops[b] = (m1, m2);
        }
    }

    private static Module<Tensor, Tensor> Op(EpnasCellOp op, int inChannels, EpnasBranch br, int stage) => op == EpnasCellOp.Conv
        ? new CellConv(inChannels, br.Channels << stage, br.FilterWidth)
        : new CellPool(op == EpnasCellOp.MaxPool, br.PoolWidth);

    internal static void Count(EpnasCostCounter c, EpnasModuleGenotype g, int stage, bool reduction, int inChannels, int h, int w)
    {
        int width = g.Filters << stage;
        (int oh, int ow) = c.Counter.Conv(inChannels, width, h, w, 1, 1, reduction ? 2 : 1);
        c.Counter.BatchNorm(width, oh, ow);
        c.Move((long)inChannels * width + 2L * width, (long)inChannels * h * w, (long)width * oh * ow);
        int[] states = g.StateChannels(stage);
        for (int b = 0; b < g.Branches.Count; b++)
        {
            EpnasBranch br = g.Branches[b];
            (EpnasCellOp? first, EpnasCellOp? second) = br.Ops;
            if (first is not null) CountOp(c, first.Value, states[br.Src1], br, stage, oh, ow);
            if (second is not null)
            {
                CountOp(c, second.Value, states[br.Src2], br, stage, oh, ow);
                c.Counter.Elementwise(states[b + 1], oh, ow);
            }
        }
        c.Counter.Elementwise(g.CellOutChannels(stage), oh, ow);
    }

    private static void CountOp(EpnasCostCounter c, EpnasCellOp op, int cin, EpnasBranch br, int stage, int h, int w)
    {
        if (op == EpnasCellOp.Conv)
        {
            int cout = br.Channels << stage, k = br.FilterWidth;
            c.Counter.Elementwise(cin, h, w);
            c.Counter.ConvSame(cin, cout, h, w, k);
            c.Counter.BatchNorm(cout, h, w);
            c.Move((long)cin * cout * k * k + 2L * cout, (long)cin * h * w, (long)cout * h * w);
        }
        else
        {
            c.Counter.Elementwise(cin, h, w);
            c.Move(0, (long)cin * h * w, (long)cin * h * w);
        }
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        var states = new Tensor[_ops.Length + 1];
        states[0] = _preprocessBn.Forward(_preprocess.Forward(F.Relu(x)));
        var outputs = new List<Tensor>();
        for (int b = 0; b < _ops.Length; b++)
        {
            EpnasBranch br = _genotype.Branches[b];
            (Module<Tensor, Tensor>? m1, Module<Tensor, Tensor>? m2) = _ops[b];
            Tensor y = m1 is null ? states[br.Src1] : m1.Forward(states[br.Src1]);
            if (m2 is not null) y = F.ConcatChannels(y, m2.Forward(states[br.Src2]));
            states[b + 1] = y;
            if (br.Propagate) outputs.Add(y);
        }
        return outputs.Count == 1 ? outputs[0] : F.ConcatChannels([.. outputs]);
    }

    /// <summary>ReLU → k×k conv (same padding) → BN. Children <c>conv</c>, <c>bn</c>.</summary>
    private sealed class CellConv : Module<Tensor, Tensor>
    {
        private readonly Conv2d _conv;
        private readonly BatchNorm2d _bn;

        public CellConv(int cin, int cout, int k)
        {
            _conv = RegisterModule("conv", new Conv2d(cin, cout, k, 1, k / 2));
            _bn = RegisterModule("bn", new BatchNorm2d(cout));
        }

        public override Tensor Forward(Tensor x) => _bn.Forward(_conv.Forward(F.Relu(x)));
    }

    /// <summary>Pooling of width p, stride 1, padding 1; width 2 gives one extra row and column, cropped at the end
    /// (i.e. the input is padded on the top and left only).</summary>
    private sealed class CellPool(bool max, int p) : Module<Tensor, Tensor>
    {
        public override Tensor Forward(Tensor x)
        {
            var o = Pool2dOptions.Square(p, 1, 1, countIncludePad: false);
            Tensor y = max ? F.MaxPool2d(x, o) : F.AvgPool2d(x, o);
            return p == 2 ? F.Narrow(F.Narrow(y, 2, 0, x.Dim(2)), 3, 0, x.Dim(3)) : y;
        }
    }
}
