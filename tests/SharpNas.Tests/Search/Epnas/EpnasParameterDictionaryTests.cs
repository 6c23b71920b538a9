using SharpNas.Engine;
using SharpNas.Engine.Modules;
using SharpNas.Search.Spaces.Epnas;
using SharpNas.Search.Strategies.Epnas;
using SharpNas.Training;
using static SharpNas.Tests.Search.Epnas.EpnasGenotypeTests;

namespace SharpNas.Tests.Search.Epnas;

/// <summary>The parameter-sharing dictionary: reuse, clashes, slicing and padding.</summary>
public sealed class EpnasParameterDictionaryTests
{
    private static (EpnasLayerGenotype G, Module Net) Net(int channels, ulong seed)
    {
        var g = new EpnasLayerGenotype([Conv(3, channels, 0), Pool(2, 1)], 16);
        Module net = g.Build(Small);
        net.Initialize(new SeededRandom(seed));
        return (g, net);
    }

    private static float[] Get(Module net, string name) => net.StateDict().Single(p => p.Name == name).Tensor.ToArray();

    [Fact]
    public void AStoredLayer_IsReusedByALayerWithTheSameIndexAndType()
    {
        var dict = new EpnasParameterDictionary();
        (EpnasLayerGenotype ga, Module a) = Net(32, 1);
        Assert.Equal(5, dict.Store(a, EpnasParameterDictionary.LayerKeys(ga), 0.5));   // conv weight, bn weight/bias/mean/var
        (EpnasLayerGenotype gb, Module b) = Net(32, 2);
        Assert.Equal(5, dict.Load(b, EpnasParameterDictionary.LayerKeys(gb)));
        Assert.Equal(Get(a, "layers.0.conv.weight"), Get(b, "layers.0.conv.weight"));
        Assert.NotEqual(Get(a, "classifier.weight"), Get(b, "classifier.weight"));   // the head is not shared
    }

    [Fact]
    public void Clashes_KeepTheMoreAccurateModelWithinAStep_AndALaterStepReplaces()
    {
        var dict = new EpnasParameterDictionary();
        (EpnasLayerGenotype g, Module first) = Net(32, 1);
        (_, Module better) = Net(32, 2);
        (_, Module worse) = Net(32, 3);
        (_, Module later) = Net(32, 4);
        dict.Store(first, EpnasParameterDictionary.LayerKeys(g), 0.5);
        dict.Store(better, EpnasParameterDictionary.LayerKeys(g), 0.7);
        Assert.Equal(0, dict.Store(worse, EpnasParameterDictionary.LayerKeys(g), 0.6));
        (_, Module probe) = Net(32, 9);
        dict.Load(probe, EpnasParameterDictionary.LayerKeys(g));
        Assert.Equal(Get(better, "layers.0.conv.weight"), Get(probe, "layers.0.conv.weight"));
        dict.BeginStep();
        dict.Store(later, EpnasParameterDictionary.LayerKeys(g), 0.1);
        dict.Load(probe, EpnasParameterDictionary.LayerKeys(g));
        Assert.Equal(Get(later, "layers.0.conv.weight"), Get(probe, "layers.0.conv.weight"));
        Assert.Equal(5, dict.Count);
    }

    [Fact]
    public void AWiderLayer_GetsTheStoredTensorZeroPadded_AndANarrowerOneASlice()
    {
        var dict = new EpnasParameterDictionary();
        (EpnasLayerGenotype g32, Module a) = Net(32, 1);
        dict.Store(a, EpnasParameterDictionary.LayerKeys(g32), 0.5);
        float[] stored = Get(a, "layers.0.conv.weight");   // [32, 16, 3, 3]
        (EpnasLayerGenotype g64, Module wide) = Net(64, 2);
        dict.Load(wide, EpnasParameterDictionary.LayerKeys(g64));
        float[] w = Get(wide, "layers.0.conv.weight");      // [64, 16, 3, 3]
        Assert.Equal(stored, w.Take(stored.Length));
        Assert.All(w.Skip(stored.Length), v => Assert.Equal(0f, v));
        (EpnasLayerGenotype g16, Module narrow) = Net(16, 3);
        dict.Load(narrow, EpnasParameterDictionary.LayerKeys(g16));
        Assert.Equal(stored.Take(16 * 16 * 9), Get(narrow, "layers.0.conv.weight"));
    }

    [Fact]
    public void Fit_SlicesAndPadsEveryDimensionFromTheOrigin()
    {
        var source = Tensor.FromArray([1, 2, 3, 4, 5, 6], 2, 3);
        var target = Tensor.Full(9f, 3, 2);
        EpnasParameterDictionary.Fit(source, target);
        Assert.Equal([1f, 2, 4, 5, 0, 0], target.ToArray());
    }

    [Fact]
    public void Load_TakesTheClosestStoredShape()
    {
        var dict = new EpnasParameterDictionary();
        (EpnasLayerGenotype g16, Module n16) = Net(16, 1);
        (EpnasLayerGenotype g96, Module n96) = Net(96, 2);
        dict.Store(n16, EpnasParameterDictionary.LayerKeys(g16), 0.5);
        dict.Store(n96, EpnasParameterDictionary.LayerKeys(g96), 0.5);
        (EpnasLayerGenotype g32, Module n32) = Net(32, 3);
        dict.Load(n32, EpnasParameterDictionary.LayerKeys(g32));   // |32 − 16| < |96 − 32|: the 16-channel variant, padded
        float[] bnWeight = Get(n32, "layers.0.bn.weight");
        Assert.Equal(Get(n16, "layers.0.bn.weight"), bnWeight.Take(16));
        Assert.All(bnWeight.Skip(16), v => Assert.Equal(0f, v));
    }
}
