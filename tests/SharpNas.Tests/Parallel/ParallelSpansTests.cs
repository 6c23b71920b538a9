using SharpNas.Engine;
using SharpNas.Engine.Functional;
using SharpNas.Engine.Parallel;

namespace SharpNas.Tests.Parallel;

public sealed unsafe class ParallelSpansTests
{
    // Above the parallel threshold, and not a whole number of chunks.
    private const int Length = ParallelSpans.MinParallel + 3 * ParallelSpans.Chunk + 5;

    private readonly struct CountOp(int* hits) : IChunkOp
    {
        public void Apply(nint start, int length)
        {
            for (nint i = start; i < start + length; i++) hits[i]++;
        }
    }

    [Theory]
    [InlineData(1, Length)]
    [InlineData(3, Length)]
    [InlineData(3, ParallelSpans.MinParallel - 1)]
    [InlineData(2, 0)]
    public void For_VisitsEveryElementExactlyOnce(int threads, int length)
    {
        using var pool = new WorkerPool(threads);
        var hits = new int[Math.Max(1, length)];
        fixed (int* p = hits) ParallelSpans.For(pool, length, new CountOp(p));
        for (int i = 0; i < length; i++) Assert.Equal(1, hits[i]);
    }

    [Fact]
    public void TheSpanOps_MatchScalarLoops()
    {
        var rng = new SeededRandom(5);
        float[] a = Random(rng), b = Random(rng), y = new float[Length];

        ParallelSpans.Zip(a, b, y, System.Numerics.Tensors.TensorPrimitives.Add);
        for (int i = 0; i < Length; i++) Assert.Equal(a[i] + b[i], y[i]);

        ParallelSpans.Map(a, y, static (x, r) => System.Numerics.Tensors.TensorPrimitives.Max(x, 0f, r));
        for (int i = 0; i < Length; i++) Assert.Equal(Math.Max(a[i], 0f), y[i]);

        ParallelSpans.ReluGradient(y, b, a, accumulate: false);
        for (int i = 0; i < Length; i++) Assert.Equal(a[i] > 0 ? b[i] : 0f, y[i]);

        float[] acc = (float[])b.Clone();
        ParallelSpans.ReluGradient(acc, b, a, accumulate: true);
        for (int i = 0; i < Length; i++) Assert.Equal(a[i] > 0 ? b[i] + b[i] : b[i], acc[i]);

        ParallelSpans.Copy(a, y);
        Assert.Equal(a, y);
        ParallelSpans.Clear(y);
        Assert.All(y, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void AGradientReachingATensorTwice_IsTheSumOfBoth_AndTheFirstIsCopied()
    {
        // x feeds two branches; the first gradient lands in a fresh (uncleared) pooled buffer by copy, the
        // second adds. Pooled buffers are reused, so a missing zero-fill or copy would show up as garbage.
        var pool = new TensorPool();
        for (int round = 0; round < 3; round++)
        {
            using var scope = pool.BeginStep();
            var rng = new SeededRandom((ulong)round);
            Tensor x = Tensor.FromArray(Random(rng), Length);
            x.RequiresGrad = true;
            Tensor h = F.Scale(x, 1f);
            Tensor y = F.Add(F.Scale(h, 2f), F.Relu(h));
            F.Sum(y).Backward();
            float[] g = x.Grad!.Span.ToArray();
            for (int i = 0; i < Length; i += 997) Assert.Equal(x.Span[i] > 0 ? 3f : 2f, g[i]);
        }
    }

    [Fact]
    public void ConcatAboveTheParallelThreshold_CopiesForward_AndStoresOrAddsItsGradients()
    {
        // [8, 3, 64, 64] and [8, 2, 64, 64]: 163,840 floats out, so the blocks go to the pool. h also feeds a
        // second branch, so one of its two gradients lands in its pooled (in the second round, dirty) buffer first
        // and the other is added.
        var pool = new TensorPool();
        for (int round = 0; round < 2; round++)
        {
            using var scope = pool.BeginStep();
            ConcatRound(new SeededRandom((ulong)round + 9));
        }
    }

    private static void ConcatRound(SeededRandom rng)
    {
        Tensor a = Tensor.FromArray(Random(rng, 8 * 3 * 4096), 8, 3, 64, 64), b = Tensor.FromArray(Random(rng, 8 * 2 * 4096), 8, 2, 64, 64);
        a.RequiresGrad = b.RequiresGrad = true;
        Tensor w = Tensor.FromArray(Random(rng, 8 * 5 * 4096), 8, 5, 64, 64);
        Tensor h = F.Scale(a, 1f);
        Tensor side = F.Sum(F.Scale(h, 3f));
        Tensor y = F.ConcatChannels(h, b);
        F.Add(side, F.Sum(F.Mul(y, w))).Backward();   // backprop reaches the concat before the side branch
        for (int i = 0; i < 8; i++)
            for (int ch = 0; ch < 5; ch++)
                for (int p = 0; p < 4096; p += 61)
                {
                    int at = (i * 5 + ch) * 4096 + p;
                    float input = ch < 3 ? a.Span[(i * 3 + ch) * 4096 + p] : b.Span[(i * 2 + ch - 3) * 4096 + p];
                    Assert.Equal(input, y.Span[at]);
                    float grad = ch < 3 ? a.Grad!.Span[(i * 3 + ch) * 4096 + p] : b.Grad!.Span[(i * 2 + ch - 3) * 4096 + p];
                    Assert.Equal(w.Span[at] + (ch < 3 ? 3f : 0f), grad, 5);
                }
    }

    private static float[] Random(SeededRandom rng, int count = Length)
    {
        var v = new float[count];
        for (int i = 0; i < v.Length; i++) v[i] = rng.NextFloat() * 2 - 1;
        return v;
    }
}
