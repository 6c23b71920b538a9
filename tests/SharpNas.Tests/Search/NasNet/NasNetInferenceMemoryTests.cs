using SharpNas.Engine;
using SharpNas.Engine.Autograd;
using SharpNas.Engine.Modules;
using SharpNas.Search.Spaces.NasNet;
using SharpNas.Search.Spaces.StageWise;
using SharpNas.Training;
using Xunit.Abstractions;

namespace SharpNas.Tests.Search.NasNet;

/// <summary>
/// NASNet cells, ops and networks release their intermediates in a forward pass without autograd
/// (<see cref="Tensor.Release"/>): the step's pool needs a fraction of the bytes, the values are bit for bit those of
/// a pass that releases nothing (identity ops, concatenated blocks, projected outputs and the first cell's raw h1
/// included), and the stage outputs the stage-wise search reads stay intact.
/// </summary>
public sealed class NasNetInferenceMemoryTests(ITestOutputHelper output)
{
    private static readonly InputSpec Tiny = new(3, 16, 16, 10);
    private const int Batch = 3;

    public static TheoryData<string> Genotypes => ["nasnet-a", "all-ops"];

    private static Module<Tensor, Tensor> Build(string name)
    {
        NasNetGenotype g = name == "nasnet-a"
            ? NasNetGenotype.NasNetA(cellsPerStage: 2, penultimateFilters: 96, auxHead: true, dropPathKeepProb: 0.7)
            : new NasNetGenotype(NasNetNetworkTests.AllOpsNormal, NasNetNetworkTests.AllOpsReduction, CellsPerStage: 2, Filters: 4, AuxHead: true);
        return Prepared(g.Build(Tiny));
    }

    [Theory]
    [MemberData(nameof(Genotypes))]
    public void NoGradForward_GivesBitForBitTheValuesOfAForwardThatReleasesNothing_OnRecycledBuffers(string genotype)
    {
        Module<Tensor, Tensor> net = Build(genotype);
        float[] images = Images(1);
        float[] reference;
        using (GradMode.NoGrad()) reference = net.Forward(Input(images)).ToArray();   // no scope: nothing is released

        var pool = new TensorPool();
        for (int step = 0; step < 2; step++)
        {
            using TensorScope scope = pool.BeginStep();
            using var noGrad = GradMode.NoGrad();
            long returned = pool.Returned;
            Assert.Equal(reference, net.Forward(Input(images)).ToArray());
            Assert.True(pool.Returned > returned, "nothing was released during the forward");
        }
        using (pool.BeginStep()) Assert.Equal(reference, net.Forward(Input(images)).ToArray());   // graph recorded
    }

    [Theory]
    [MemberData(nameof(Genotypes))]
    public void NoGradForward_NeedsAFractionOfThePooledBytes(string genotype)
    {
        Module<Tensor, Tensor> net = Build(genotype);
        float[] images = Images(2);
        long releasing = PeakPooledBytes(net, images, grad: false), keeping = PeakPooledBytes(net, images, grad: true);
        output.WriteLine($"{genotype}: peak pooled bytes {releasing:N0} releasing vs {keeping:N0} keeping");
        Assert.True(releasing * 4 < keeping, $"peak {releasing:N0} B is not a quarter of {keeping:N0} B");
    }

    [Fact]
    public void CellStageFeatures_HeldByTheCaller_SurviveLaterForwardsInTheSameScope()
    {
        var net = (CellStageNetwork)Prepared(new StageGenotype(StageModule.Cell, [2, 1, 2], Width: 2).Build(Tiny));
        float[] first = Images(3), second = Images(4);
        float[] firstLogits, secondLogits;
        float[][] firstFeatures;
        using (GradMode.NoGrad())
        {
            firstLogits = net.Forward(Input(first)).ToArray();
            firstFeatures = net.StageFeatures().Select(t => t.ToArray()).ToArray();
            secondLogits = net.Forward(Input(second)).ToArray();
        }

        var pool = new TensorPool();
        using TensorScope scope = pool.BeginStep();
        using var noGrad = GradMode.NoGrad();
        Tensor heldLogits = net.Forward(Input(first));
        Tensor[] heldFeatures = net.StageFeatures();
        for (int s = 0; s < heldFeatures.Length; s++) Assert.Equal(firstFeatures[s], heldFeatures[s].ToArray());
        for (int i = 0; i < 2; i++) Assert.Equal(secondLogits, net.Forward(Input(second)).ToArray());
        Assert.True(pool.Returned > 0, "nothing was released");
        Assert.Equal(firstLogits, heldLogits.ToArray());
        for (int s = 0; s < heldFeatures.Length; s++) Assert.Equal(firstFeatures[s], heldFeatures[s].ToArray());
    }

    private static Module<Tensor, Tensor> Prepared(Module<Tensor, Tensor> net)
    {
        net.Initialize(new SeededRandom(11));
        var rng = new SeededRandom(12);
        foreach ((string name, Tensor t) in net.NamedBuffers())
        {
            Span<float> s = t.Span;
            for (int i = 0; i < s.Length; i++) s[i] = name.EndsWith("running_var", StringComparison.Ordinal) ? 0.5f + rng.NextFloat() : 0.2f * (float)rng.NextNormal();
        }
        net.Eval();
        return net;
    }

    private static float[] Images(ulong seed)
    {
        var rng = new SeededRandom(seed);
        var v = new float[Batch * Tiny.Channels * Tiny.Height * Tiny.Width];
        for (int i = 0; i < v.Length; i++) v[i] = (float)rng.NextNormal();
        return v;
    }

    private static Tensor Input(float[] images) => Tensor.FromValues(images, Batch, Tiny.Channels, Tiny.Height, Tiny.Width);

    private static long PeakPooledBytes(Module<Tensor, Tensor> net, float[] images, bool grad)
    {
        var pool = new TensorPool();
        using (pool.BeginStep())
        {
            using GradMode.NoGradScope? noGrad = grad ? null : GradMode.NoGrad();
            net.Forward(Input(images));
        }
        return pool.PeakBytesInUse;
    }
}
