using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using SharpNas.Engine.Parallel;

namespace SharpNas.Engine.Kernels.Fast;

/// <summary>
/// Single-precision matrix product, packed and cache-blocked (the Goto/BLIS scheme), on a <see cref="WorkerPool"/>.
/// </summary>
/// <remarks>
/// Layout is row-major throughout. op(A) is m × k: <c>op(A)[i, p] = transA ? a[p·lda + i] : a[i·lda + p]</c>;
/// op(B) is k × n: <c>op(B)[p, j] = transB ? b[j·ldb + p] : b[p·ldb + j]</c>; <c>C[i, j] = c[i·ldc + j]</c>.
/// <para>Algorithm: for each NC-wide column block of op(B) and each KC-deep slice, pack the KC × NC block of op(B)
/// into NR-wide panels; for each MC-high row block, pack the MC × KC block of op(A) into MR-high panels; then
/// sweep MR × NR register tiles (<see cref="ISgemmMicroKernel"/>). Packing buffers come from the pool's per-participant
/// <see cref="WorkerScratch"/>, so a steady-state call allocates nothing.</para>
/// <para>Threads: a product of at least <see cref="ParallelMinMultiplyAdds"/> multiply-adds is split into one
/// contiguous band of C per participant, along N when op(B) has at least as many NR panels as op(A) has MR panels,
/// else along M. Each element of C is summed in the same order (KC slices in order, p ascending inside a slice)
/// whatever the split, so the result depends only on the SIMD level, not on the thread count.</para>
/// </remarks>
internal static unsafe class Sgemm
{
    /// <summary>Products smaller than this many multiply-adds run on the calling thread only: waking a worker
    /// costs more than it saves.</summary>
    public const long ParallelMinMultiplyAdds = 1L << 18;

    /// <summary>
    /// <c>C = op(A)·op(B)</c>, or <c>C += op(A)·op(B)</c> when <paramref name="accumulate"/> (layout in the remarks of
    /// <see cref="Sgemm"/>), on <paramref name="pool"/> (<see cref="WorkerPool.Default"/> when null), with the widest
    /// SIMD level the hardware accelerates.
    /// </summary>
    /// <exception cref="ArgumentException">A size is negative, a leading dimension is smaller than its row length, a
    /// span is too short for its matrix, or C overlaps A or B.</exception>
    public static void Multiply(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc,
        bool accumulate, WorkerPool? pool = null) =>
        Multiply(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate, pool, SimdLevels.Best);

    /// <summary>As <see cref="Multiply(bool, bool, int, int, int, ReadOnlySpan{float}, int, ReadOnlySpan{float}, int, Span{float}, int, bool, WorkerPool?)"/>,
    /// with the SIMD level forced (tests use it to check every path).</summary>
    public static void Multiply(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc,
        bool accumulate, WorkerPool? pool, SimdLevel level)
    {
        ValidateShape(transA, transB, m, n, k, lda, ldb, ldc);
        CheckLength("A", a.Length, transA ? k : m, transA ? m : k, lda);
        CheckLength("B", b.Length, transB ? n : k, transB ? k : n, ldb);
        CheckLength("C", c.Length, m, n, ldc);
        if (c.Overlaps(a) || c.Overlaps(b))
            throw new ArgumentException("Sgemm: C must not overlap A or B.", nameof(c));
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            MultiplyUnchecked(transA, transB, m, n, k, pa, lda, pb, ldb, pc, ldc, accumulate, pool, level);
        }
    }

    /// <summary>
    /// Pointer form of <see cref="Multiply(bool, bool, int, int, int, ReadOnlySpan{float}, int, ReadOnlySpan{float}, int, Span{float}, int, bool, WorkerPool?)"/>.
    /// Sizes and leading dimensions are validated; the caller guarantees that the pointers address matrices of
    /// those sizes and that C does not overlap A or B.
    /// </summary>
    public static void Multiply(bool transA, bool transB, int m, int n, int k,
        float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate, WorkerPool? pool = null) =>
        Multiply(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate, pool, SimdLevels.Best);

    /// <summary>Pointer form with the SIMD level forced.</summary>
    public static void Multiply(bool transA, bool transB, int m, int n, int k,
        float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate, WorkerPool? pool, SimdLevel level)
    {
        ValidateShape(transA, transB, m, n, k, lda, ldb, ldc);
        MultiplyUnchecked(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate, pool, level);
    }

    private static void MultiplyUnchecked(bool transA, bool transB, int m, int n, int k,
        float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate, WorkerPool? pool, SimdLevel level)
    {
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            // An empty sum: C = 0, or C unchanged.
            if (!accumulate)
                for (int i = 0; i < m; i++) new Span<float>(c + (nint)i * ldc, n).Clear();
            return;
        }
        var args = new SgemmArgs(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
        pool ??= WorkerPool.Default;
        switch (level)
        {
            case SimdLevel.Vector512 when !NarrowFitsBetter(m, n): Run<SgemmTile512>(args, pool); break;
            case SimdLevel.Vector512:
            case SimdLevel.Vector256: Run<SgemmTile256>(args, pool); break;
            default: Run<SgemmTileScalar>(args, pool); break;
        }
    }

    /// <summary>True when C fills the 6 × 16 tiles of the 256-bit kernel clearly better than the 8 × 32 tiles of the
    /// 512-bit one (a 16-column C, such as the weight gradient of a 1×1 conv from 16 channels, wastes half of every
    /// 512-bit tile). Where a 512-bit FMA runs as two 256-bit halves (Zen 4) the two kernels peak alike.</summary>
    internal static bool NarrowFitsBetter(int m, int n) =>
        Fill(m, n, SgemmTile256.MR, SgemmTile256.NR) > 1.1 * Fill(m, n, SgemmTile512.MR, SgemmTile512.NR);

    /// <summary>The share of the register tiles covering an m × n C that holds C.</summary>
    private static double Fill(int m, int n, int mr, int nr) =>
        (double)m * n / ((long)(m + mr - 1) / mr * mr * ((n + nr - 1) / nr * nr));

    /// <summary>
    /// <c>C = op(A)·B</c> (or <c>+=</c>) on the calling thread, with B (k × n) packed panel by panel by
    /// <paramref name="b"/> and packing buffers from <paramref name="scratch"/> (the caller's participant): for
    /// kernels that already run one product per participant. Sizes are the caller's to guarantee.
    /// </summary>
    public static void MultiplyPackedB<TPackB>(bool transA, int m, int n, int k, float* a, int lda, in TPackB b,
        float* c, int ldc, bool accumulate, WorkerScratch scratch, SimdLevel level) where TPackB : struct, ISgemmPackB
    {
        if (m == 0 || n == 0 || k == 0)
        {
            // The conv callers never pass an empty product; keep the contract of Multiply anyway.
            if (!accumulate && k == 0)
                for (int i = 0; i < m; i++) new Span<float>(c + (nint)i * ldc, n).Clear();
            return;
        }
        var args = new SgemmArgs(transA, false, m, n, k, a, lda, null, 0, c, ldc, accumulate);
        switch (level)
        {
            case SimdLevel.Vector512: SgemmDriver<SgemmTile512>.Block(args, b, 0, m, 0, n, scratch); break;
            case SimdLevel.Vector256: SgemmDriver<SgemmTile256>.Block(args, b, 0, m, 0, n, scratch); break;
            default: SgemmDriver<SgemmTileScalar>.Block(args, b, 0, m, 0, n, scratch); break;
        }
    }

    private static void Run<TKernel>(in SgemmArgs args, WorkerPool pool) where TKernel : struct, ISgemmMicroKernel
    {
        int mPanels = (args.M + TKernel.MR - 1) / TKernel.MR;
        int nPanels = (args.N + TKernel.NR - 1) / TKernel.NR;
        bool splitN = nPanels >= mPanels;
        int tasks = 1;
        if (pool.ThreadCount > 1 && (long)args.M * args.N * args.K >= ParallelMinMultiplyAdds)
            tasks = Math.Min(pool.ThreadCount, splitN ? nPanels : mPanels);
        pool.Run(tasks, new SgemmJob<TKernel>(args, tasks, splitN, nPanels, mPanels, pool));
    }

    private static void ValidateShape(bool transA, bool transB, int m, int n, int k, int lda, int ldb, int ldc)
    {
        if (m < 0 || n < 0 || k < 0)
            throw new ArgumentException($"Sgemm: sizes must be non-negative, found m={m}, n={n}, k={k}.");
        CheckLeading("lda", lda, transA ? m : k);
        CheckLeading("ldb", ldb, transB ? k : n);
        CheckLeading("ldc", ldc, n);
    }

    private static void CheckLeading(string name, int ld, int rowLength)
    {
        if (ld < Math.Max(1, rowLength))
            throw new ArgumentException($"Sgemm: {name} must be at least max(1, {rowLength}) (the stored row length), found {ld}.", name);
    }

    private static void CheckLength(string name, int length, int rows, int cols, int ld)
    {
        long needed = rows == 0 || cols == 0 ? 0 : (long)(rows - 1) * ld + cols;
        if (length < needed)
            throw new ArgumentException(
                $"Sgemm: {name} holds {length} floats, expected at least {needed} ({rows} rows × {cols} columns, leading dimension {ld}).",
                name);
    }

    /// <summary>One band of C per task: rows or columns split at register-tile boundaries, in order.</summary>
    private readonly struct SgemmJob<TKernel>(SgemmArgs args, int tasks, bool splitN, int nPanels, int mPanels, WorkerPool pool)
        : IParallelJob where TKernel : struct, ISgemmMicroKernel
    {
        public void Execute(int begin, int end, int participant)
        {
            WorkerScratch scratch = pool.Scratch(participant);
            for (int t = begin; t < end; t++)
            {
                if (splitN)
                {
                    int n0 = (int)((long)nPanels * t / tasks) * TKernel.NR;
                    int n1 = Math.Min((int)((long)nPanels * (t + 1) / tasks) * TKernel.NR, args.N);
                    SgemmDriver<TKernel>.Block(args, 0, args.M, n0, n1, scratch);
                }
                else
                {
                    int m0 = (int)((long)mPanels * t / tasks) * TKernel.MR;
                    int m1 = Math.Min((int)((long)mPanels * (t + 1) / tasks) * TKernel.MR, args.M);
                    SgemmDriver<TKernel>.Block(args, m0, m1, 0, args.N, scratch);
                }
            }
        }
    }
}

/// <summary>The operands of one SGEMM call (see <see cref="Sgemm"/> for the layout).</summary>
internal readonly unsafe struct SgemmArgs(bool transA, bool transB, int m, int n, int k,
    float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
{
    public readonly bool TransA = transA, TransB = transB, Accumulate = accumulate;
    public readonly int M = m, N = n, K = k, Lda = lda, Ldb = ldb, Ldc = ldc;
    public readonly float* A = a, B = b, C = c;
}

/// <summary>The blocked loops and the packing, specialised per register tile.</summary>
internal static unsafe class SgemmDriver<TKernel> where TKernel : struct, ISgemmMicroKernel
{
    /// <summary>Computes the band <c>C[m0..m1, n0..n1]</c> with packing buffers from <paramref name="scratch"/>.</summary>
    public static void Block(in SgemmArgs g, int m0, int m1, int n0, int n1, WorkerScratch scratch) =>
        Block(g, new MatrixB(g.TransB, g.B, g.Ldb), m0, m1, n0, n1, scratch);

    /// <summary>As <see cref="Block(in SgemmArgs, int, int, int, int, WorkerScratch)"/>, with op(B) produced panel by
    /// panel by <paramref name="b"/> (its B pointer in <paramref name="g"/> is ignored): a convolution packs its
    /// columns straight from the input this way, without writing the im2col matrix.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Block<TPackB>(in SgemmArgs g, in TPackB b, int m0, int m1, int n0, int n1, WorkerScratch scratch)
        where TPackB : struct, ISgemmPackB
    {
        // Blocks of equal size rather than full blocks and a thin remainder (K = 288 runs as 2 × 144, not 256 + 32):
        // a thin slice pays the full cost of loading and storing C for little work.
        int kcStep = Balanced(g.K, TKernel.KC, 8);
        int mcStep = Balanced(m1 - m0, TKernel.MC, TKernel.MR);
        int ncStep = Balanced(n1 - n0, TKernel.NC, TKernel.NR);
        float* packA = scratch.Floats(ScratchSlot.GemmPackA, (nint)RoundUp(mcStep, TKernel.MR) * kcStep);
        float* edge = stackalloc float[TKernel.MR * TKernel.NR];

        if (m1 - m0 <= mcStep)
        {
            // One row block (the skinny shapes of convolutions: few output channels, many pixels): the packed B block
            // is used by this block only, so keep it small enough to stay in L2 instead of going out to L3.
            ncStep = Balanced(n1 - n0, Math.Max(TKernel.NR, SkinnyBlockBytes / sizeof(float) / kcStep / TKernel.NR * TKernel.NR), TKernel.NR);
        }
        float* packB = scratch.Floats(ScratchSlot.GemmPackB, (nint)RoundUp(ncStep, TKernel.NR) * kcStep);

        for (int jc = n0; jc < n1; jc += ncStep)
        {
            int nc = Math.Min(ncStep, n1 - jc);
            for (int pc = 0; pc < g.K; pc += kcStep)
            {
                int kc = Math.Min(kcStep, g.K - pc);
                // The first slice writes C (or adds to it when the caller asked); later slices add.
                bool accumulate = g.Accumulate || pc > 0;
                b.Pack(pc, kc, jc, nc, TKernel.NR, packB);
                for (int ic = m0; ic < m1; ic += mcStep)
                {
                    int mc = Math.Min(mcStep, m1 - ic);
                    PackA(g, ic, mc, pc, kc, packA);
                    Macro(mc, nc, kc, packA, packB, g.C + (nint)ic * g.Ldc + jc, g.Ldc, accumulate, edge);
                }
            }
        }
    }

    /// <summary>Bytes of packed B per block when C has a single row block: about half of a 512 KiB L2.</summary>
    private const int SkinnyBlockBytes = 192 * 1024;

    /// <summary>The step that cuts <paramref name="length"/> into the fewest blocks of at most <paramref name="max"/>,
    /// all of about equal size, rounded up to a multiple of <paramref name="multiple"/> (max is one of its multiples).</summary>
    private static int Balanced(int length, int max, int multiple)
    {
        int blocks = (length + max - 1) / max;
        int step = (length + blocks - 1) / blocks;
        return Math.Min(max, RoundUp(step, multiple));
    }

    /// <summary>Sweeps the register tiles of one packed block: each NR panel of B stays in L1 while the MR panels
    /// of A stream from L2. Partial tiles at the right and bottom edges go through <paramref name="edge"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Macro(int mc, int nc, int kc, float* packA, float* packB, float* c, int ldc, bool accumulate, float* edge)
    {
        for (int jr = 0; jr < nc; jr += TKernel.NR)
        {
            int nr = Math.Min(TKernel.NR, nc - jr);
            float* bp = packB + (nint)jr * kc;
            for (int ir = 0; ir < mc; ir += TKernel.MR)
            {
                int mr = Math.Min(TKernel.MR, mc - ir);
                float* ap = packA + (nint)ir * kc;
                float* cp = c + (nint)ir * ldc + jr;
                if (mr == TKernel.MR && nr == TKernel.NR)
                {
                    TKernel.Tile(kc, ap, bp, cp, ldc, accumulate);
                }
                else
                {
                    TKernel.Tile(kc, ap, bp, edge, TKernel.NR, accumulate: false);
                    for (int r = 0; r < mr; r++)
                    {
                        var src = new ReadOnlySpan<float>(edge + r * TKernel.NR, nr);
                        var dst = new Span<float>(cp + (nint)r * ldc, nr);
                        if (accumulate) TensorPrimitives.Add(dst, src, dst);
                        else src.CopyTo(dst);
                    }
                }
            }
        }
    }

    /// <summary>Packs op(A)[ic..ic+mc, pc..pc+kc] into MR-row panels: panel q holds, for each p, the MR values
    /// op(A)[ic + q·MR + r, pc + p] at <c>dst[q·MR·kc + p·MR + r]</c>; rows past mc are zero.</summary>
    private static void PackA(in SgemmArgs g, int ic, int mc, int pc, int kc, float* dst)
    {
        if (g.TransA)
        {
            SgemmPacking.Gather(g.A + (nint)pc * g.Lda + ic, g.Lda, mc, TKernel.MR, kc, dst);
            return;
        }
        for (int ir = 0; ir < mc; ir += TKernel.MR)
        {
            int mr = Math.Min(TKernel.MR, mc - ir);
            SgemmPacking.Transpose(g.A + (nint)(ic + ir) * g.Lda + pc, g.Lda, mr, TKernel.MR, kc, dst + (nint)ir * kc);
        }
    }

    private static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;
}

/// <summary>Produces packed panels of op(B) for <see cref="SgemmDriver{TKernel}"/>.</summary>
internal unsafe interface ISgemmPackB
{
    /// <summary>Packs op(B)[pc..pc+kc, jc..jc+nc] into <paramref name="width"/>-column panels: panel q holds, for each
    /// p, the values op(B)[pc + p, jc + q·width + j] at <c>dst[q·width·kc + p·width + j]</c>; columns past nc are zero.</summary>
    void Pack(int pc, int kc, int jc, int nc, int width, float* dst);
}

/// <summary>op(B) stored as a matrix: B, or Bᵀ when <paramref name="trans"/> (layout in <see cref="Sgemm"/>).</summary>
internal readonly unsafe struct MatrixB(bool trans, float* b, int ldb) : ISgemmPackB
{
    public void Pack(int pc, int kc, int jc, int nc, int width, float* dst)
    {
        if (!trans)
        {
            SgemmPacking.Gather(b + (nint)pc * ldb + jc, ldb, nc, width, kc, dst);
            return;
        }
        for (int jr = 0; jr < nc; jr += width)
        {
            int nr = Math.Min(width, nc - jr);
            SgemmPacking.Transpose(b + (nint)(jc + jr) * ldb + pc, ldb, nr, width, kc, dst + (nint)jr * kc);
        }
    }
}
