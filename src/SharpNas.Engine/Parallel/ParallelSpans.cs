using SharpNas.Engine.Kernels;
using SharpNas.Engine.Kernels.Fast;

namespace SharpNas.Engine.Parallel;

/// <summary>One element-wise operation over <c>[start, start + length)</c> of the arrays it points to. The parts of
/// a large span are processed by different threads, so the operation must touch only its own elements.</summary>
internal interface IChunkOp
{
    void Apply(nint start, int length);
}

/// <summary>
/// The element-wise work outside the kernels (zero-filling gradients, adding them up, ReLU, residual adds) on
/// <see cref="WorkerPool.Default"/>: a span of at least <see cref="MinParallel"/> floats is cut into chunks of
/// <see cref="Chunk"/> floats shared among the pool's threads; a smaller one runs on the calling thread. Each element
/// is computed the same way whatever the split, so the results do not depend on the thread count.
/// </summary>
internal static unsafe class ParallelSpans
{
    /// <summary>Floats per work item (64 KiB).</summary>
    public const int Chunk = 1 << 14;

    /// <summary>Spans shorter than this (256 KiB) are not worth waking the workers for.</summary>
    public const int MinParallel = 1 << 16;

    public delegate void SpanMap(ReadOnlySpan<float> x, Span<float> y);

    public delegate void SpanZip(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y);

    /// <summary>Runs <paramref name="op"/> over <c>[0, length)</c>, split across the pool when the span is large (a
    /// small span does not touch the pool, so it is not created for one).</summary>
    public static void For<TOp>(int length, in TOp op) where TOp : struct, IChunkOp
    {
        if (length < MinParallel) op.Apply(0, length);
        else For(WorkerPool.Default, length, op);
    }

    /// <summary><see cref="For{TOp}(int, in TOp)"/> on a given pool.</summary>
    public static void For<TOp>(WorkerPool pool, int length, in TOp op) where TOp : struct, IChunkOp
    {
        if (length < MinParallel || pool.ThreadCount == 1)
        {
            op.Apply(0, length);
            return;
        }
        pool.Run((length + Chunk - 1) / Chunk, new ChunkJob<TOp>(op, length));
    }

    /// <summary>y = 0.</summary>
    public static void Clear(Span<float> y)
    {
        fixed (float* py = y) For(y.Length, new ClearOp(py));
    }

    /// <summary>y = x.</summary>
    public static void Copy(ReadOnlySpan<float> x, Span<float> y)
    {
        if (x.Length != y.Length) throw new ArgumentException("ParallelSpans.Copy: lengths differ");
        fixed (float* px = x, py = y) For(y.Length, new CopyOp(px, py));
    }

    /// <summary>y = map(x), elementwise (x and y of one length; they may be the same span).</summary>
    public static void Map(ReadOnlySpan<float> x, Span<float> y, SpanMap map)
    {
        if (x.Length != y.Length) throw new ArgumentException("ParallelSpans.Map: lengths differ");
        fixed (float* px = x, py = y) For(y.Length, new MapOp(px, py, map));
    }

    /// <summary>y = zip(a, b), elementwise (a, b and y of one length; y may be a or b).</summary>
    public static void Zip(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y, SpanZip zip)
    {
        if (a.Length != y.Length || b.Length != y.Length) throw new ArgumentException("ParallelSpans.Zip: lengths differ");
        fixed (float* pa = a, pb = b, py = y) For(y.Length, new ZipOp(pa, pb, py, zip));
    }

    /// <summary>The backward of ReLU, read from its output y: dx = dy where y &gt; 0, else 0; or, when
    /// <paramref name="accumulate"/>, dx += that (into a buffer holding earlier gradients).</summary>
    public static void ReluGradient(Span<float> dx, ReadOnlySpan<float> dy, ReadOnlySpan<float> y, bool accumulate)
    {
        if (dy.Length != dx.Length || y.Length != dx.Length) throw new ArgumentException("ParallelSpans.ReluGradient: lengths differ");
        fixed (float* pdx = dx, pdy = dy, py = y) For(dx.Length, new ReluGradientOp(pdx, pdy, py, accumulate, SimdLevels.Best));
    }

    /// <summary>Block i of <paramref name="count"/> (each <paramref name="block"/> floats) of src, read at
    /// i · <paramref name="srcStride"/>, is stored at i · <paramref name="dstStride"/> of dst, or added there when
    /// <paramref name="add"/>: a channel concatenation and its backward. Blocks are split among the pool's threads
    /// when there are at least <see cref="MinParallel"/> floats in all.</summary>
    public static void Blocks(ReadOnlySpan<float> src, int srcStride, Span<float> dst, int dstStride, int block, int count, bool add)
    {
        if (count <= 0 || block <= 0) return;
        if ((long)(count - 1) * srcStride + block > src.Length || (long)(count - 1) * dstStride + block > dst.Length)
            throw new ArgumentException("ParallelSpans.Blocks: a block lies outside its span");
        fixed (float* ps = src, pd = dst)
        {
            var job = new BlockJob(ps, srcStride, pd, dstStride, block, add);
            if ((long)block * count < MinParallel) job.Execute(0, count, 0);
            else WorkerPool.Default.Run(count, job);
        }
    }

    private readonly struct BlockJob(float* src, int srcStride, float* dst, int dstStride, int block, bool add) : IParallelJob
    {
        public void Execute(int begin, int end, int participant)
        {
            for (int i = begin; i < end; i++)
            {
                var s = new ReadOnlySpan<float>(src + (nint)i * srcStride, block);
                var d = new Span<float>(dst + (nint)i * dstStride, block);
                if (add) System.Numerics.Tensors.TensorPrimitives.Add(d, s, d);
                else s.CopyTo(d);
            }
        }
    }

    private readonly struct ChunkJob<TOp>(TOp op, int length) : IParallelJob where TOp : struct, IChunkOp
    {
        public void Execute(int begin, int end, int participant)
        {
            nint start = (nint)begin * Chunk;
            int stop = (int)Math.Min((long)end * Chunk, length);
            op.Apply(start, stop - (int)start);
        }
    }

    private readonly struct ClearOp(float* y) : IChunkOp
    {
        public void Apply(nint start, int length) => new Span<float>(y + start, length).Clear();
    }

    private readonly struct CopyOp(float* x, float* y) : IChunkOp
    {
        public void Apply(nint start, int length) => new ReadOnlySpan<float>(x + start, length).CopyTo(new Span<float>(y + start, length));
    }

    private readonly struct MapOp(float* x, float* y, SpanMap map) : IChunkOp
    {
        public void Apply(nint start, int length) => map(new ReadOnlySpan<float>(x + start, length), new Span<float>(y + start, length));
    }

    private readonly struct ZipOp(float* a, float* b, float* y, SpanZip zip) : IChunkOp
    {
        public void Apply(nint start, int length) =>
            zip(new ReadOnlySpan<float>(a + start, length), new ReadOnlySpan<float>(b + start, length), new Span<float>(y + start, length));
    }

    private readonly struct ReluGradientOp(float* dx, float* dy, float* y, bool accumulate, SimdLevel level) : IChunkOp
    {
        public void Apply(nint start, int length)
        {
            if (accumulate) SimdLoops.ReluGradientAdd(dx + start, dy + start, y + start, length, level);
            else SimdLoops.ReluGradient(dx + start, dy + start, y + start, length, level);
        }
    }
}
