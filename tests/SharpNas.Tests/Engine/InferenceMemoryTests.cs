using SharpNas.Engine;
using SharpNas.Engine.Autograd;
using SharpNas.Engine.Functional;
using SharpNas.Engine.Models;
using SharpNas.Engine.Modules;
using Xunit.Abstractions;

namespace SharpNas.Tests.Engine;

/// <summary>
/// A forward pass without autograd releases each activation once its last reader has run (<see cref="Tensor.Release"/>):
/// the buffer goes back to the step's pool and the next tensor of its size reuses it. What the caller holds — the
/// output, <see cref="BasicBlock.LastAddition"/> / <see cref="ResNet.StageFeatures"/>, kept tensors — stays intact, the
/// values are bit for bit those of a pass that releases nothing, and with gradients recorded nothing is released.
/// </summary>
public sealed class InferenceMemoryTests(ITestOutputHelper output)
{
    private const int Batch = 4;

    // ---- Tensor.Release ------------------------------------------------------------------------------------

    [Fact]
    public void ReleasedBuffer_IsHandedToTheNextTensorOfItsSize_AndTheReleasedTensorThrows()
    {
        var pool = new TensorPool();
        using TensorScope scope = pool.BeginStep();
        using var noGrad = GradMode.NoGrad();
        Tensor a = Tensor.Full(1f, 2, 3);
        long inUse = pool.BytesInUse;
        a.Release();
        Assert.Equal(inUse - 24, pool.BytesInUse);
        Assert.Equal(1, pool.Returned);
        Tensor b = Tensor.Zeros(6);
        Assert.Equal(24, pool.BytesAllocated);          // b took a's array: nothing new allocated
        Assert.Equal(new float[6], b.ToArray());
        Assert.Throws<InvalidOperationException>(() => a.Span.Length);
        a.Release();                                    // twice is harmless
        Assert.Equal(1, pool.Returned);
    }

    [Fact]
    public void Release_LeavesAloneWhatMayStillBeRead()
    {
        var pool = new TensorPool();
        using TensorScope scope = pool.BeginStep();

        Tensor recorded = Tensor.Full(2f, 4);
        recorded.Release();                              // gradients are being recorded: backward may read it
        Tensor param = Tensor.Full(1f, 4);
        param.RequiresGrad = true;
        Tensor graph = F.Mul(param, recorded);
        using (GradMode.NoGrad())
        {
            graph.Release();                             // part of a graph
            Tensor owner = Tensor.Full(3f, 2, 2);
            Tensor view = owner.Reshape(4);
            view.Release();                              // a view does not own the buffer
            owner.Release(view);                         // the reader returned a view of it
            Tensor identity = Tensor.Full(4f, 4);
            identity.Release(F.Dropout(identity, 0.5f, training: false, new SeededRandom(1)));   // returned itself
            Tensor kept = scope.Keep(Tensor.Full(5f, 4));
            kept.Release();                              // detached from the scope: the GC owns it
            Tensor.FromArray([1f, 2f], 2).Release();     // an owned array: nothing to give back

            Assert.Equal(0, pool.Returned);
            Assert.Equal(new[] { 2f, 2f, 2f, 2f }, recorded.ToArray());
            Assert.Equal(new[] { 2f, 2f, 2f, 2f }, graph.ToArray());
            Assert.Equal(new[] { 3f, 3f, 3f, 3f }, view.ToArray());
            Assert.Equal(new[] { 4f, 4f, 4f, 4f }, identity.ToArray());
            Assert.Equal(new[] { 5f, 5f, 5f, 5f }, kept.ToArray());
        }
    }

    [Fact]
    public void Sequential_ReleasesOnlyItsOwnIntermediates_AndOnlyWhenAskedTo()
    {
        var pool = new TensorPool();
        using TensorScope scope = pool.BeginStep();
        using var noGrad = GradMode.NoGrad();
        Tensor x = Tensor.FromValues([-1f, 2f, -3f, 4f], 1, 1, 2, 2);
        // Identity first (returns its input), ReLU, ReLU, Flatten (returns a view of the last ReLU's output).
        var chain = new Sequential(new Dropout(0.5f, new SeededRandom(1)), new ReLU(), new ReLU(), new Flatten()) { ReleasesIntermediates = true };
        chain.Eval();
        Tensor y = chain.Forward(x);
        Assert.Equal(new[] { 0f, 2f, 0f, 4f }, y.ToArray());
        Assert.Equal(new[] { -1f, 2f, -3f, 4f }, x.ToArray());   // the input is the caller's
        Assert.Equal(1, pool.Returned);                          // only the first ReLU's output, once the second has read it

        var plain = new Sequential(new ReLU(), new ReLU());
        long returned = pool.Returned;
        plain.Forward(x);
        Assert.Equal(returned, pool.Returned);
    }

    // ---- networks ------------------------------------------------------------------------------------------

    [Fact]
    public void ResNet20_NoGradForward_ReusesBuffers_AndNeedsAFractionOfThePooledBytes()
    {
        ResNet net = Model(ResNet.Cifar(20));
        float[] images = Images(Batch, 16, 16, 1);
        (long peakReleasing, long allocatedReleasing) = PooledBytes(net, images, grad: false);
        (long peakKeeping, long allocatedKeeping) = PooledBytes(net, images, grad: true);   // recording: nothing is released
        output.WriteLine($"peak pooled bytes: {peakReleasing:N0} releasing vs {peakKeeping:N0} keeping; " +
            $"allocated {allocatedReleasing:N0} vs {allocatedKeeping:N0}");
        Assert.True(peakReleasing * 4 < peakKeeping, $"peak {peakReleasing:N0} B is not a quarter of {peakKeeping:N0} B");
        // A block's fused conv + BN + add + ReLU holds four activations at once (its input, conv2's input, the sum and
        // the output), and the pool keeps each stage's buffers when the next stage needs another size: about 29 %.
        Assert.True(allocatedReleasing * 3 < allocatedKeeping, $"allocated {allocatedReleasing:N0} B is not a third of {allocatedKeeping:N0} B");
    }

    [Fact]
    public void BottleneckResNet_NoGradForward_ReleasesItsIntermediates()
    {
        ResNet net = Model(new ResNet([2, 2], widths: [4, 8], shortcut: ShortcutKind.Projection, block: ResidualBlockKind.Bottleneck));
        float[] images = Images(Batch, 8, 8, 2);
        (long peakReleasing, _) = PooledBytes(net, images, grad: false);
        (long peakKeeping, _) = PooledBytes(net, images, grad: true);
        Assert.True(peakReleasing * 2 < peakKeeping, $"peak {peakReleasing:N0} B is not half of {peakKeeping:N0} B");
    }

    [Theory]
    [InlineData(ResidualBlockKind.Basic, ShortcutKind.ZeroPad)]
    [InlineData(ResidualBlockKind.Basic, ShortcutKind.Projection)]
    [InlineData(ResidualBlockKind.Bottleneck, ShortcutKind.Projection)]
    public void NoGradForwardInAScope_GivesBitForBitTheValuesOfAForwardThatReleasesNothing(ResidualBlockKind block, ShortcutKind shortcut)
    {
        ResNet net = Model(new ResNet([2, 2, 2], widths: [4, 8, 16], shortcut: shortcut, block: block));
        float[] images = Images(Batch, 8, 8, 3);

        // Reference: outside any scope (no pool, so nothing can be released or reused).
        float[] logits;
        float[][] features;
        using (GradMode.NoGrad())
        {
            logits = net.Forward(Input(images, 8)).ToArray();
            features = net.StageFeatures().Select(t => t.ToArray()).ToArray();
        }

        var pool = new TensorPool();
        for (int step = 0; step < 2; step++)   // the second step runs on recycled, dirty buffers
        {
            using TensorScope scope = pool.BeginStep();
            using var noGrad = GradMode.NoGrad();
            long returned = pool.Returned;
            Tensor y = net.Forward(Input(images, 8));
            Assert.True(pool.Returned > returned, "nothing was released during the forward");
            Assert.Equal(logits, y.ToArray());
            Tensor[] stages = net.StageFeatures();                 // what the stage scorer reads after the forward
            for (int s = 0; s < stages.Length; s++) Assert.Equal(features[s], stages[s].ToArray());
        }

        // With gradients recorded (eval mode, nothing released, the separate ops instead of the fused inference
        // kernels) the values are the same.
        using (pool.BeginStep())
        {
            Assert.Equal(logits, net.Forward(Input(images, 8)).ToArray());
            Tensor[] stages = net.StageFeatures();
            for (int s = 0; s < stages.Length; s++) Assert.Equal(features[s], stages[s].ToArray());
        }
    }

    [Fact]
    public void OutputsAndStageFeaturesHeldByTheCaller_SurviveLaterForwardsInTheSameScope()
    {
        ResNet net = Model(ResNet.Cifar(8));
        float[] first = Images(Batch, 8, 8, 4), second = Images(Batch, 8, 8, 5);
        float[] firstLogits, secondLogits;
        float[][] firstFeatures;
        using (GradMode.NoGrad())
        {
            firstLogits = net.Forward(Input(first, 8)).ToArray();
            firstFeatures = net.StageFeatures().Select(t => t.ToArray()).ToArray();
            secondLogits = net.Forward(Input(second, 8)).ToArray();
        }
        Assert.NotEqual(firstLogits, secondLogits);

        var pool = new TensorPool();
        using TensorScope scope = pool.BeginStep();
        using var noGrad = GradMode.NoGrad();
        Tensor heldLogits = net.Forward(Input(first, 8));
        Tensor[] heldFeatures = net.StageFeatures();
        for (int i = 0; i < 3; i++) Assert.Equal(secondLogits, net.Forward(Input(second, 8)).ToArray());
        Assert.Equal(firstLogits, heldLogits.ToArray());
        for (int s = 0; s < heldFeatures.Length; s++) Assert.Equal(firstFeatures[s], heldFeatures[s].ToArray());
    }

    [Fact]
    public void BatchNormRelu_WithoutAGraph_EqualsTheComposite_InOneBuffer()
    {
        var rng = new SeededRandom(9);
        float[] xv = new float[2 * 3 * 4 * 4];
        for (int i = 0; i < xv.Length; i++) xv[i] = (float)rng.NextNormal();
        var pool = new TensorPool();
        using TensorScope scope = pool.BeginStep();
        using var noGrad = GradMode.NoGrad();
        Tensor x = Tensor.FromValues(xv, 2, 3, 4, 4);
        Tensor g = Tensor.FromValues([0.5f, -1f, 2f], 3), b = Tensor.FromValues([0.1f, 0f, -0.3f], 3);
        Tensor rm = Tensor.FromValues([0.2f, -0.1f, 0f], 3), rv = Tensor.FromValues([1f, 0.5f, 2f], 3);
        float[] composite = F.Relu(F.BatchNorm2d(x, g, b, rm, rv, training: false)).ToArray();
        long before = pool.BytesInUse;
        Tensor fused = F.BatchNormRelu(x, g, b, rm, rv, training: false);
        Assert.Equal(composite, fused.ToArray());
        Assert.Equal(before + 4L * x.Size, pool.BytesInUse);   // the output only: BN's per-channel temporaries went back
    }

    // ---- helpers -------------------------------------------------------------------------------------------

    private static ResNet Model(ResNet net)
    {
        net.Initialize(new SeededRandom(7));
        // Non-trivial running statistics, so that eval-mode BN does real work.
        var rng = new SeededRandom(8);
        foreach ((string name, Tensor t) in net.NamedBuffers())
        {
            Span<float> s = t.Span;
            for (int i = 0; i < s.Length; i++) s[i] = name.EndsWith("running_var", StringComparison.Ordinal) ? 0.5f + rng.NextFloat() : 0.2f * (float)rng.NextNormal();
        }
        net.Eval();
        return net;
    }

    private static float[] Images(int n, int h, int w, ulong seed)
    {
        var rng = new SeededRandom(seed);
        var v = new float[n * 3 * h * w];
        for (int i = 0; i < v.Length; i++) v[i] = (float)rng.NextNormal();
        return v;
    }

    private static Tensor Input(float[] images, int size) => Tensor.FromValues(images, images.Length / (3 * size * size), 3, size, size);

    /// <summary>Peak bytes in use and bytes allocated by a fresh pool over one eval forward (grad recorded or not).</summary>
    private static (long Peak, long Allocated) PooledBytes(ResNet net, float[] images, bool grad)
    {
        var pool = new TensorPool();
        using (pool.BeginStep())
        {
            using GradMode.NoGradScope? noGrad = grad ? null : GradMode.NoGrad();
            int size = (int)Math.Sqrt(images.Length / (3 * Batch));
            net.Forward(Input(images, size));
        }
        return (pool.PeakBytesInUse, pool.BytesAllocated);
    }
}
