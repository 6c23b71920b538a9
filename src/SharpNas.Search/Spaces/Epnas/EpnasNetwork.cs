using System.Globalization;
using SharpNas.Engine;
using SharpNas.Engine.Modules;
using SharpNas.Training;

namespace SharpNas.Search.Spaces.Epnas;

/// <summary>
/// What the networks of both EPNAS patterns share: the stem, a 3×3 conv (stride 1, same padding) and BN registered
/// first as <c>stem_conv</c>, <c>stem_bn</c>, and numbered lists of children (<c>layers.{i}</c>, <c>cells.{i}</c>).
/// </summary>
public abstract class EpnasNetwork : Module<Tensor, Tensor>
{
    private readonly Conv2d _stemConv;
    private readonly BatchNorm2d _stemBn;

    /// <summary>Registers the stem from the input's channels to <paramref name="stemChannels"/>.</summary>
    private protected EpnasNetwork(InputSpec input, int stemChannels)
    {
        _stemConv = RegisterModule("stem_conv", new Conv2d(input.Channels, stemChannels, 3, 1, 1));
        _stemBn = RegisterModule("stem_bn", new BatchNorm2d(stemChannels));
    }

    /// <summary>The stem's output (conv then BN, no activation).</summary>
    private protected Tensor Stem(Tensor x) => _stemBn.Forward(_stemConv.Forward(x));

    /// <summary>Registers <paramref name="modules"/> in order as <paramref name="name"/>.0, .1, … and returns them.</summary>
    private protected List<T> RegisterList<T>(string name, IEnumerable<T> modules) where T : Module
    {
        var holder = RegisterModule(name, new Holder());
        return modules.Select((m, i) => holder.Add(i, m)).ToList();
    }

    private sealed class Holder : Module
    {
        public T Add<T>(int i, T m) where T : Module => RegisterModule(i.ToString(CultureInfo.InvariantCulture), m);
    }
}
