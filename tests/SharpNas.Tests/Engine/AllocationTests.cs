using SharpNas.Engine;
using SharpNas.Engine.Functional;
using SharpNas.Engine.Models;
using SharpNas.Engine.Optim;
using Xunit.Abstractions;

namespace SharpNas.Tests.Engine;

/// <summary>
/// DESIGN.md: no allocation in the training loop in steady state. A ResNet training step inside a
/// <see cref="TensorScope"/> takes every tensor buffer from the pool; after warm-up the pool allocates nothing new
/// and the managed heap sees only small bookkeeping objects (graph nodes, shape arrays), never tensor data.
/// </summary>
public sealed class AllocationTests(ITestOutputHelper output)
{
    private const int WarmUp = 2, Measured = 3;

    // The smallest activation of this network is [8, 64, 4, 4] = 32 KiB (the fc input [8, 64] is 2 KiB); the
    // largest [8, 16, 16, 16] = 128 KiB. Bookkeeping (nodes, tensor objects, shape arrays, the tape's
    // traversal) measured ~24 KiB per step, so 48 KiB leaves 2× headroom and still fails if any
    // activation-sized tensor, or its gradient, is allocated on the heap each step.
    private const long MaxHeapBytesPerStep = 48 * 1024;

    [Fact]
    public void A_resnet_training_step_in_steady_state_allocates_no_tensor_data()
    {
        var model = new ResNet([1, 1, 1]);
        model.Initialize(new SeededRandom(5));
        var sgd = new Sgd(model.Parameters(), 0.05, momentum: 0.9, weightDecay: 5e-4);
        var rng = new SeededRandom(6);
        float[] images = new float[8 * 3 * 16 * 16];
        for (int i = 0; i < images.Length; i++) images[i] = (float)rng.NextNormal();
        long[] labels = [0, 1, 2, 3, 4, 5, 6, 7];
        var pool = new TensorPool();

        float Step()
        {
            using TensorScope step = pool.BeginStep();
            Tensor x = Tensor.FromValues(images, 8, 3, 16, 16);
            Tensor loss = F.CrossEntropy(model.Forward(x), labels);
            loss.Backward();
            sgd.Step();
            sgd.ZeroGrad();
            return loss.Item();
        }

        Step();
        long stepDataBytes = pool.BytesAllocated;          // the first step rents every buffer fresh
        for (int i = 1; i < WarmUp; i++) Step();
        long poolAfterWarmUp = pool.BytesAllocated;

        long worstHeap = 0, totalHeap = 0;
        float lastLoss = 0;
        for (int i = 0; i < Measured; i++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            lastLoss = Step();
            long heap = GC.GetAllocatedBytesForCurrentThread() - before;
            worstHeap = Math.Max(worstHeap, heap);
            totalHeap += heap;
        }

        string numbers = $"tensor data per step {stepDataBytes:N0} B; heap per step worst {worstHeap:N0} B, mean {totalHeap / Measured:N0} B " +
            $"(bound {MaxHeapBytesPerStep:N0} B); pool {poolAfterWarmUp:N0} B after warm-up, {pool.BytesAllocated:N0} B at the end; " +
            $"rented {pool.Rented:N0}, returned {pool.Returned:N0}";
        output.WriteLine(numbers);
        Assert.True(float.IsFinite(lastLoss), numbers);
        Assert.True(pool.BytesAllocated == poolAfterWarmUp, "the pool kept allocating: " + numbers);
        Assert.True(pool.Rented == pool.Returned, "buffers were not returned: " + numbers);
        Assert.True(stepDataBytes > 20 * MaxHeapBytesPerStep, "the step is too small to tell tensor data from bookkeeping: " + numbers);
        Assert.True(worstHeap <= MaxHeapBytesPerStep, "a training step allocated on the heap: " + numbers);
    }
}
