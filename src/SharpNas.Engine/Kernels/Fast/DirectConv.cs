// Convolution on the "padded-width grid", without im2col and without packing the input.
//
// Copy one sample-group into a zero-padded buffer xp [Cin/groups, Hp, Wp]. Number the outputs on a grid as wide as
// the padded input, g = oh·Wp + ow (the columns ow ≥ OW of each row are junk, computed and dropped). Then tap
// k = (c, kh, kw) of output g reads xp[offset[k] + g]: along g, every tap is a contiguous run of the input, so a
// register tile reads its vectors of B straight from xp, with one offset per tap and no packing.
//   forward          Ygrid[co, g]  = Σ_k W[co, k] · xp[offset[k] + g]           (4 × 24 or 6 × 16 channels × grid points; 16 × 16 with AVX-512)
//   backward weight  dWᵀ[k, co]   += Σ_g xp[offset[k] + g] · dYgridᵀ[g, co]     (6 taps × 16 channels per tile; 6 × 32 with AVX-512)
// and a stride-1 backward-input is the forward of dY with flipped weights (GemmConv.TransposedGeometry).
// The junk columns cost (Wp − OW)/Wp of the work, so the grid is used only where rows are long (Applies); a 32-wide
// ResNet stage-1 plane pays 2/34. A strided conv first splits the padded input into strideH·strideW phase planes
// (plane (a, b) holds the rows ≡ a and columns ≡ b), in which every tap reads at stride 1. Every other conv keeps the
// packed GEMM path.
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using SharpNas.Engine.Parallel;

namespace SharpNas.Engine.Kernels.Fast;

internal static unsafe class DirectConv
{
    /// <summary>The two forward tiles, output channels × grid points, 12 accumulators each: 4 × 24 (3 loads of the
    /// input, 4 broadcasts per tap) and 6 × 16 (2 loads, 6 broadcasts). Each conv takes the one that wastes less
    /// work on rounding its channels and grid up to whole tiles (<see cref="ChooseTile"/>).</summary>
    private const int WideRows = 4, WideCols = 24, TallRows = 6, TallCols = 16;

    /// <summary>Backward-weight tile: taps × output channels (12 accumulators, 2 loads of dY, 6 broadcasts), 16 channels
    /// in ymm registers or, with AVX-512 and a multiple of 32 channels, 32 in zmm ones.</summary>
    private const int WeightRows = 6, WeightCols = 16, WideWeightCols = 32;

    /// <summary>True when the grid kernels handle <paramref name="g"/>: AVX2 with FMA, a kernel larger than 1×1, not
    /// depthwise, and junk columns at most 1/4 of the grid. 1×1 convs go straight to GEMM: measured, the grid ran them
    /// at 0.7× (few taps per output, and taps a whole plane apart, often 4 KiB, which alias in L1).</summary>
    public static bool Applies(in ConvGeometry g, SimdLevel level)
    {
        if (level < SimdLevel.Vector256 || !Fma.IsSupported || g.IsDepthwise || (g.KH == 1 && g.KW == 1))
            return false;
        Grid grid = Grid.Of(g);
        return (grid.Wp - g.OW) * 4 <= grid.Wp;
    }

    /// <summary>The buffer the tiles read: <c>Phases</c> = strideH·strideW planes of <c>Hp × Wp</c> per input channel
    /// (one plane, the padded input, at stride 1), the grid of <c>Length = OH·Wp</c> points and the taps.</summary>
    private readonly record struct Grid(int Hp, int Wp, int Phases, int Length, int Taps)
    {
        public static Grid Of(in ConvGeometry g)
        {
            int hp = g.PadTop + g.H + g.PadBottom, wp = g.PadLeft + g.W + g.PadRight;
            int hq = (hp + g.StrideH - 1) / g.StrideH, wq = (wp + g.StrideW - 1) / g.StrideW;
            return new Grid(hq, wq, g.StrideH * g.StrideW, g.OH * wq, g.CinPerGroup * g.KH * g.KW);
        }

        /// <summary>Floats of the planes of one sample-group.</summary>
        public nint PlaneFloats(int cinG) => (nint)cinG * Phases * Hp * Wp;

        /// <summary>Floats of the buffer, with slack for the last tile's reads past the last grid point.</summary>
        public nint PaddedFloats(int cinG) => PlaneFloats(cinG) + Wp + WideCols + 16;
    }

    /// <summary>The forward tiles, chosen per conv by <see cref="ChooseTile"/>.</summary>
    private enum ForwardTile { Wide4x24, Tall6x16, Square16x16 }

    /// <summary>The tile for <paramref name="g"/>: the one that wastes least on rounding its channels and grid up to
    /// whole tiles (4 × 24 on a tie with 6 × 16). The Vector512 16 × 16 tile needs AVX-512 and at least 64 taps — with
    /// fewer, as in a 3-channel stem, its 16 stores per tile weigh more than the taps (measured 0.77× there) — and wins
    /// ties. On Zen 4, where a Vector512 FMA does the work of two Vector256 ones, it made ResNet-20's 3×3 forward and
    /// backward-input 3–15 % faster per call (docs/results.md).</summary>
    private static ForwardTile ChooseTile(in ConvGeometry g, SimdLevel level)
    {
        Grid grid = Grid.Of(g);
        int cout = g.CoutPerGroup, length = grid.Length;
        long Work(int rows, int cols) => (long)RoundUp(cout, rows) * RoundUp(length, cols);
        long wide = Work(WideRows, WideCols), tall = Work(TallRows, TallCols);
        if (level >= SimdLevel.Vector512 && grid.Taps >= 64 && Work(16, 16) <= Math.Min(wide, tall)) return ForwardTile.Square16x16;
        return wide <= tall ? ForwardTile.Wide4x24 : ForwardTile.Tall6x16;
    }

    public static void Forward(in ConvGeometry g, float* x, ConvWeights w, ConvEpilogue epilogue, float* y, bool accumulate,
        WorkerPool pool, KernelScratch scratch, SimdLevel level)
    {
        switch (ChooseTile(g, level))
        {
            case ForwardTile.Square16x16: pool.Run(g.N * g.Groups, new ForwardJob<Tile16x16>(g, x, w, epilogue, y, accumulate, scratch)); break;
            case ForwardTile.Wide4x24: pool.Run(g.N * g.Groups, new ForwardJob<WideTile4x24>(g, x, w, epilogue, y, accumulate, scratch)); break;
            default: pool.Run(g.N * g.Groups, new ForwardJob<TallTile6x16>(g, x, w, epilogue, y, accumulate, scratch)); break;
        }
    }

    public static void BackwardWeight(in ConvGeometry g, float* x, float* dy, float* dw, WorkerPool pool, KernelScratch scratch,
        WeightGradientReduction reduction, SimdLevel level) =>
        pool.Run(g.N * g.Groups, new BackwardWeightJob(g, x, dy, dw, scratch, reduction,
            Wide: level >= SimdLevel.Vector512 && g.CoutPerGroup % WideWeightCols == 0));

    /// <summary>packed[gi][t][p][r] = W[gi·CoutG + t·rows + r, p] (zero past CoutG): one panel per tile row.</summary>
    private static void PackForwardWeights(in ConvGeometry g, float* w, int rows, float* packed)
    {
        int coutG = g.CoutPerGroup, k = g.CinPerGroup * g.KH * g.KW, rowsPadded = RoundUp(coutG, rows);
        for (int gi = 0; gi < g.Groups; gi++)
        for (int t = 0; t < rowsPadded; t += rows)
        {
            float* panel = packed + ((nint)gi * rowsPadded + t) * k;
            for (int r = 0; r < rows; r++)
            {
                int co = t + r;
                float* src = w + ((nint)gi * coutG + co) * k;
                for (int p = 0; p < k; p++) panel[p * rows + r] = co < coutG ? src[p] : 0f;
            }
        }
    }

    /// <summary>This participant's buffer for the planes of one sample-group, its slack zeroed, and the tap offsets
    /// into it: the same for every sample of the call, so set up once per participant.</summary>
    private static float* Planes(in ConvGeometry g, in Grid grid, int participant, KernelScratch scratch, out int* offsets)
    {
        float* xp = scratch.Floats(participant, KernelSlot.Padded, grid.PaddedFloats(g.CinPerGroup));
        nint used = grid.PlaneFloats(g.CinPerGroup);
        new Span<float>(xp + used, (int)(grid.PaddedFloats(g.CinPerGroup) - used)).Clear();
        offsets = (int*)scratch.Floats(participant, KernelSlot.ColumnOffsets, grid.Taps);
        if (grid.Phases == 1) ConvColumns.FillOffsets(g, offsets);
        else FillPhaseOffsets(g, grid, offsets);
        return xp;
    }

    /// <summary>Writes the planes of the sample-group <paramref name="xg"/> into <paramref name="xp"/> (slack untouched).</summary>
    private static void Fill(in ConvGeometry g, in Grid grid, float* xg, float* xp)
    {
        if (grid.Phases == 1) ConvColumns.PadInto(g, xg, xp);
        else PhaseInto(g, grid, xg, xp);
    }

    /// <summary>Strided convs: plane (c, a, b)[i, j] = padded input [c, i·strideH + a, j·strideW + b] (zero outside
    /// the image), so that each tap reads one plane at stride 1.</summary>
    private static void PhaseInto(in ConvGeometry g, in Grid grid, float* xg, float* xp)
    {
        for (int c = 0; c < g.CinPerGroup; c++)
        for (int a = 0; a < g.StrideH; a++)
        for (int b = 0; b < g.StrideW; b++)
        {
            float* plane = xp + (((nint)c * g.StrideH + a) * g.StrideW + b) * grid.Hp * grid.Wp;
            float* src = xg + (nint)c * g.H * g.W;
            for (int i = 0; i < grid.Hp; i++)
            {
                float* d = plane + (nint)i * grid.Wp;
                int h = i * g.StrideH + a - g.PadTop;
                if ((uint)h >= (uint)g.H)
                {
                    new Span<float>(d, grid.Wp).Clear();
                    continue;
                }
                float* row = src + (nint)h * g.W;
                for (int j = 0; j < grid.Wp; j++)
                {
                    int w = j * g.StrideW + b - g.PadLeft;
                    d[j] = (uint)w < (uint)g.W ? row[w] : 0f;
                }
            }
        }
    }

    /// <summary>Tap (c, kh, kw) reads plane (c, kh·dH mod sH, kw·dW mod sW) from row kh·dH div sH, column kw·dW div sW.</summary>
    private static void FillPhaseOffsets(in ConvGeometry g, in Grid grid, int* offsets)
    {
        int k = 0;
        for (int c = 0; c < g.CinPerGroup; c++)
        for (int kh = 0; kh < g.KH; kh++)
        for (int kw = 0; kw < g.KW; kw++)
        {
            int y = kh * g.DilationH, x = kw * g.DilationW;
            int plane = (c * g.StrideH + y % g.StrideH) * g.StrideW + x % g.StrideW;
            offsets[k++] = (plane * grid.Hp + y / g.StrideH) * grid.Wp + x / g.StrideW;
        }
    }

    private readonly struct ForwardJob<TTile>(ConvGeometry g, float* x, ConvWeights weights, ConvEpilogue epilogue, float* y, bool accumulate,
        KernelScratch scratch) : IParallelJob where TTile : struct, IForwardTile
    {
        public void Execute(int begin, int end, int participant)
        {
            Grid grid = Grid.Of(g);
            int coutG = g.CoutPerGroup, rowsPadded = RoundUp(coutG, TTile.Rows), p = g.OH * g.OW;
            // Each participant packs its own copy (a few KiB to a few hundred): nothing is shared outside the operation.
            float* packed = scratch.Floats(participant, KernelSlot.PackedWeights, (nint)g.Groups * rowsPadded * grid.Taps);
            PackForwardWeights(g, weights.Resolve(participant, scratch), TTile.Rows, packed);
            int ldg = RoundUp(grid.Length, TTile.Cols);
            float* ygrid = scratch.Floats(participant, KernelSlot.Columns, (nint)rowsPadded * ldg);
            float* xp = Planes(g, grid, participant, scratch, out int* offsets);
            for (int item = begin; item < end; item++)
            {
                int n = item / g.Groups, gi = item % g.Groups;
                Fill(g, grid, x + ((nint)n * g.Cin + gi * g.CinPerGroup) * g.H * g.W, xp);
                float* wg = packed + (nint)gi * rowsPadded * grid.Taps;
                for (int g0 = 0; g0 < grid.Length; g0 += TTile.Cols)
                    for (int t = 0; t < rowsPadded; t += TTile.Rows)
                        TTile.Run(grid.Taps, wg + (nint)t * grid.Taps, xp + g0, offsets, ygrid + (nint)t * ldg + g0, ldg);

                // Drop the junk columns: y (=, or +=) the valid part of each grid row, through the epilogue.
                float* yg = y + ((nint)n * g.Cout + gi * coutG) * p;
                for (int co = 0; co < coutG; co++)
                    for (int oh = 0; oh < g.OH; oh++)
                        epilogue.Write(yg + (nint)co * p + oh * g.OW, ygrid + (nint)co * ldg + oh * grid.Wp, g.OW, gi * coutG + co, accumulate);
            }
        }
    }

    /// <summary>A forward register tile: <c>C[r, j] = Σ_p a[p·Rows + r] · x[offsets[p] + j]</c>, r &lt; Rows, j &lt; Cols.</summary>
    private interface IForwardTile
    {
        static abstract int Rows { get; }
        static abstract int Cols { get; }
        static abstract void Run(int taps, float* a, float* x, int* offsets, float* c, nint ldc);
    }

    private readonly struct WideTile4x24 : IForwardTile
    {
        public static int Rows => WideRows;
        public static int Cols => WideCols;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Run(int taps, float* a, float* x, int* offsets, float* c, nint ldc)
        {
            Vector256<float> c00 = default, c01 = default, c02 = default;
            Vector256<float> c10 = default, c11 = default, c12 = default;
            Vector256<float> c20 = default, c21 = default, c22 = default;
            Vector256<float> c30 = default, c31 = default, c32 = default;
            for (int p = 0; p < taps; p++)
            {
                float* s = x + offsets[p];
                Vector256<float> b0 = Vector256.Load(s), b1 = Vector256.Load(s + 8), b2 = Vector256.Load(s + 16);
                Vector256<float> ar = Vector256.Create(a[0]);
                c00 = Fma.MultiplyAdd(ar, b0, c00); c01 = Fma.MultiplyAdd(ar, b1, c01); c02 = Fma.MultiplyAdd(ar, b2, c02);
                ar = Vector256.Create(a[1]);
                c10 = Fma.MultiplyAdd(ar, b0, c10); c11 = Fma.MultiplyAdd(ar, b1, c11); c12 = Fma.MultiplyAdd(ar, b2, c12);
                ar = Vector256.Create(a[2]);
                c20 = Fma.MultiplyAdd(ar, b0, c20); c21 = Fma.MultiplyAdd(ar, b1, c21); c22 = Fma.MultiplyAdd(ar, b2, c22);
                ar = Vector256.Create(a[3]);
                c30 = Fma.MultiplyAdd(ar, b0, c30); c31 = Fma.MultiplyAdd(ar, b1, c31); c32 = Fma.MultiplyAdd(ar, b2, c32);
                a += WideRows;
            }
            c00.Store(c); c01.Store(c + 8); c02.Store(c + 16);
            c10.Store(c + ldc); c11.Store(c + ldc + 8); c12.Store(c + ldc + 16);
            c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + 8); c22.Store(c + 2 * ldc + 16);
            c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + 8); c32.Store(c + 3 * ldc + 16);
        }
    }

    /// <summary>16 output channels × 16 grid points in 16 Vector512 accumulators: 1 load of the input and 16 broadcasts
    /// per tap, so a 16-channel conv reads its input planes once per sample (4 × 24 reads them 4 times).</summary>
    private readonly struct Tile16x16 : IForwardTile
    {
        public static int Rows => 16;
        public static int Cols => 16;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Run(int taps, float* a, float* x, int* offsets, float* c, nint ldc)
        {
            Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
            Vector512<float> c8 = default, c9 = default, c10 = default, c11 = default, c12 = default, c13 = default, c14 = default, c15 = default;
            for (int p = 0; p < taps; p++)
            {
                Vector512<float> b = Vector512.Load(x + offsets[p]);
                c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[0]), b, c0);
                c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a[1]), b, c1);
                c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a[2]), b, c2);
                c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a[3]), b, c3);
                c4 = Vector512.FusedMultiplyAdd(Vector512.Create(a[4]), b, c4);
                c5 = Vector512.FusedMultiplyAdd(Vector512.Create(a[5]), b, c5);
                c6 = Vector512.FusedMultiplyAdd(Vector512.Create(a[6]), b, c6);
                c7 = Vector512.FusedMultiplyAdd(Vector512.Create(a[7]), b, c7);
                c8 = Vector512.FusedMultiplyAdd(Vector512.Create(a[8]), b, c8);
                c9 = Vector512.FusedMultiplyAdd(Vector512.Create(a[9]), b, c9);
                c10 = Vector512.FusedMultiplyAdd(Vector512.Create(a[10]), b, c10);
                c11 = Vector512.FusedMultiplyAdd(Vector512.Create(a[11]), b, c11);
                c12 = Vector512.FusedMultiplyAdd(Vector512.Create(a[12]), b, c12);
                c13 = Vector512.FusedMultiplyAdd(Vector512.Create(a[13]), b, c13);
                c14 = Vector512.FusedMultiplyAdd(Vector512.Create(a[14]), b, c14);
                c15 = Vector512.FusedMultiplyAdd(Vector512.Create(a[15]), b, c15);
                a += 16;
            }
            c0.Store(c + 0 * ldc);
            c1.Store(c + 1 * ldc);
            c2.Store(c + 2 * ldc);
            c3.Store(c + 3 * ldc);
            c4.Store(c + 4 * ldc);
            c5.Store(c + 5 * ldc);
            c6.Store(c + 6 * ldc);
            c7.Store(c + 7 * ldc);
            c8.Store(c + 8 * ldc);
            c9.Store(c + 9 * ldc);
            c10.Store(c + 10 * ldc);
            c11.Store(c + 11 * ldc);
            c12.Store(c + 12 * ldc);
            c13.Store(c + 13 * ldc);
            c14.Store(c + 14 * ldc);
            c15.Store(c + 15 * ldc);
        }
    }

    private readonly struct TallTile6x16 : IForwardTile
    {
        public static int Rows => TallRows;
        public static int Cols => TallCols;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Run(int taps, float* a, float* x, int* offsets, float* c, nint ldc)
        {
            Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
            Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
            for (int p = 0; p < taps; p++)
            {
                float* s = x + offsets[p];
                Vector256<float> b0 = Vector256.Load(s), b1 = Vector256.Load(s + 8);
                Vector256<float> ar = Vector256.Create(a[0]);
                c00 = Fma.MultiplyAdd(ar, b0, c00); c01 = Fma.MultiplyAdd(ar, b1, c01);
                ar = Vector256.Create(a[1]);
                c10 = Fma.MultiplyAdd(ar, b0, c10); c11 = Fma.MultiplyAdd(ar, b1, c11);
                ar = Vector256.Create(a[2]);
                c20 = Fma.MultiplyAdd(ar, b0, c20); c21 = Fma.MultiplyAdd(ar, b1, c21);
                ar = Vector256.Create(a[3]);
                c30 = Fma.MultiplyAdd(ar, b0, c30); c31 = Fma.MultiplyAdd(ar, b1, c31);
                ar = Vector256.Create(a[4]);
                c40 = Fma.MultiplyAdd(ar, b0, c40); c41 = Fma.MultiplyAdd(ar, b1, c41);
                ar = Vector256.Create(a[5]);
                c50 = Fma.MultiplyAdd(ar, b0, c50); c51 = Fma.MultiplyAdd(ar, b1, c51);
                a += TallRows;
            }
            c00.Store(c); c01.Store(c + 8);
            c10.Store(c + ldc); c11.Store(c + ldc + 8);
            c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + 8);
            c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + 8);
            c40.Store(c + 4 * ldc); c41.Store(c + 4 * ldc + 8);
            c50.Store(c + 5 * ldc); c51.Store(c + 5 * ldc + 8);
        }
    }

    private readonly struct BackwardWeightJob(ConvGeometry g, float* x, float* dy, float* dw, KernelScratch scratch,
        WeightGradientReduction reduction, bool Wide) : IParallelJob
    {
        public void Execute(int begin, int end, int participant)
        {
            Grid grid = Grid.Of(g);
            int coutG = g.CoutPerGroup, cols = Wide ? WideWeightCols : WeightCols, colsPadded = RoundUp(coutG, cols), p = g.OH * g.OW;
            // This participant's partial dWᵀ, [groups][taps][colsPadded].
            nint partialSize = (nint)g.Groups * grid.Taps * colsPadded;
            float* partial = scratch.Floats(participant, KernelSlot.WeightPartial, partialSize);
            new Span<float>(partial, (int)partialSize).Clear();
            float* dyT = scratch.Floats(participant, KernelSlot.Columns, (nint)grid.Length * colsPadded);
            float* xp = Planes(g, grid, participant, scratch, out int* offsets);
            try
            {
                for (int item = begin; item < end; item++)
                {
                    int n = item / g.Groups, gi = item % g.Groups;
                    Fill(g, grid, x + ((nint)n * g.Cin + gi * g.CinPerGroup) * g.H * g.W, xp);
                    TransposeToGrid(g, grid, dy + ((nint)n * g.Cout + gi * coutG) * p, dyT, colsPadded);
                    float* pg = partial + (nint)gi * grid.Taps * colsPadded;
                    for (int k0 = 0; k0 < grid.Taps; k0 += WeightRows)
                        for (int c0 = 0; c0 < colsPadded; c0 += cols)
                        {
                            int rows = Math.Min(WeightRows, grid.Taps - k0);
                            float* c = pg + (nint)k0 * colsPadded + c0;
                            if (Wide) WideWeightTile(grid.Length, xp, offsets + k0, rows, dyT + c0, colsPadded, c, colsPadded);
                            else WeightTile(grid.Length, xp, offsets + k0, rows, dyT + c0, colsPadded, c, colsPadded);
                        }
                }
            }
            finally
            {
                reduction.Finish(participant, end - begin, g.N * g.Groups, scratch, dw, partialSize, SimdLevel.Vector256,
                    new TransposedPartial(g.Groups, coutG, grid.Taps, colsPadded));
            }
        }
    }

    /// <summary>dyT[gp, co] = dY[co, oh, ow] at grid point gp = oh·Wp + ow (zero in the junk columns and past CoutG).</summary>
    private static void TransposeToGrid(in ConvGeometry g, in Grid grid, float* dyg, float* dyT, int ld)
    {
        int p = g.OH * g.OW;
        for (int oh = 0; oh < g.OH; oh++)
        {
            float* row = dyT + (nint)oh * grid.Wp * ld;
            SgemmPacking.Transpose(dyg + oh * g.OW, p, g.CoutPerGroup, ld, g.OW, row);
            new Span<float>(row + (nint)g.OW * ld, (grid.Wp - g.OW) * ld).Clear();
        }
    }

    /// <summary>C[r, j] += Σ_gp x[offsets[r] + gp] · b[gp·ldb + j] for r &lt; rows (of 6), j &lt; 16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WeightTile(int length, float* x, int* offsets, int rows, float* b, nint ldb, float* c, nint ldc)
    {
        // Rows past the last tap repeat tap 0 and are not stored.
        float* x0 = x + offsets[0];
        float* x1 = x + offsets[rows > 1 ? 1 : 0];
        float* x2 = x + offsets[rows > 2 ? 2 : 0];
        float* x3 = x + offsets[rows > 3 ? 3 : 0];
        float* x4 = x + offsets[rows > 4 ? 4 : 0];
        float* x5 = x + offsets[rows > 5 ? 5 : 0];
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (nint q = 0; q < length; q++)
        {
            Vector256<float> b0 = Vector256.Load(b), b1 = Vector256.Load(b + 8);
            Vector256<float> ar = Vector256.Create(x0[q]);
            c00 = Fma.MultiplyAdd(ar, b0, c00); c01 = Fma.MultiplyAdd(ar, b1, c01);
            ar = Vector256.Create(x1[q]);
            c10 = Fma.MultiplyAdd(ar, b0, c10); c11 = Fma.MultiplyAdd(ar, b1, c11);
            ar = Vector256.Create(x2[q]);
            c20 = Fma.MultiplyAdd(ar, b0, c20); c21 = Fma.MultiplyAdd(ar, b1, c21);
            ar = Vector256.Create(x3[q]);
            c30 = Fma.MultiplyAdd(ar, b0, c30); c31 = Fma.MultiplyAdd(ar, b1, c31);
            ar = Vector256.Create(x4[q]);
            c40 = Fma.MultiplyAdd(ar, b0, c40); c41 = Fma.MultiplyAdd(ar, b1, c41);
            ar = Vector256.Create(x5[q]);
            c50 = Fma.MultiplyAdd(ar, b0, c50); c51 = Fma.MultiplyAdd(ar, b1, c51);
            b += ldb;
        }
        AddRow(c, c00, c01);
        if (rows > 1) AddRow(c + ldc, c10, c11);
        if (rows > 2) AddRow(c + 2 * ldc, c20, c21);
        if (rows > 3) AddRow(c + 3 * ldc, c30, c31);
        if (rows > 4) AddRow(c + 4 * ldc, c40, c41);
        if (rows > 5) AddRow(c + 5 * ldc, c50, c51);
    }

    /// <summary><see cref="WeightTile"/> for j &lt; 32, in zmm registers (AVX-512).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WideWeightTile(int length, float* x, int* offsets, int rows, float* b, nint ldb, float* c, nint ldc)
    {
        float* x0 = x + offsets[0];
        float* x1 = x + offsets[rows > 1 ? 1 : 0];
        float* x2 = x + offsets[rows > 2 ? 2 : 0];
        float* x3 = x + offsets[rows > 3 ? 3 : 0];
        float* x4 = x + offsets[rows > 4 ? 4 : 0];
        float* x5 = x + offsets[rows > 5 ? 5 : 0];
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (nint q = 0; q < length; q++)
        {
            Vector512<float> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 16);
            Vector512<float> ar = Vector512.Create(x0[q]);
            c00 = Vector512.FusedMultiplyAdd(ar, b0, c00); c01 = Vector512.FusedMultiplyAdd(ar, b1, c01);
            ar = Vector512.Create(x1[q]);
            c10 = Vector512.FusedMultiplyAdd(ar, b0, c10); c11 = Vector512.FusedMultiplyAdd(ar, b1, c11);
            ar = Vector512.Create(x2[q]);
            c20 = Vector512.FusedMultiplyAdd(ar, b0, c20); c21 = Vector512.FusedMultiplyAdd(ar, b1, c21);
            ar = Vector512.Create(x3[q]);
            c30 = Vector512.FusedMultiplyAdd(ar, b0, c30); c31 = Vector512.FusedMultiplyAdd(ar, b1, c31);
            ar = Vector512.Create(x4[q]);
            c40 = Vector512.FusedMultiplyAdd(ar, b0, c40); c41 = Vector512.FusedMultiplyAdd(ar, b1, c41);
            ar = Vector512.Create(x5[q]);
            c50 = Vector512.FusedMultiplyAdd(ar, b0, c50); c51 = Vector512.FusedMultiplyAdd(ar, b1, c51);
            b += ldb;
        }
        AddRow(c, c00, c01);
        if (rows > 1) AddRow(c + ldc, c10, c11);
        if (rows > 2) AddRow(c + 2 * ldc, c20, c21);
        if (rows > 3) AddRow(c + 3 * ldc, c30, c31);
        if (rows > 4) AddRow(c + 4 * ldc, c40, c41);
        if (rows > 5) AddRow(c + 5 * ldc, c50, c51);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddRow(float* c, Vector512<float> lo, Vector512<float> hi)
    {
        (Vector512.Load(c) + lo).Store(c);
        (Vector512.Load(c + 16) + hi).Store(c + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddRow(float* c, Vector256<float> lo, Vector256<float> hi)
    {
        (Vector256.Load(c) + lo).Store(c);
        (Vector256.Load(c + 8) + hi).Store(c + 8);
    }

    private static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;
}

/// <summary>A weight-gradient partial stored transposed per group, [groups][taps][ld], to be added into dW
/// ([groups·CoutG, taps]) by <see cref="WeightGradientReduction"/>.</summary>
internal readonly record struct TransposedPartial(int Groups, int CoutPerGroup, int Taps, int Ld)
{
    public unsafe void AddInto(float* dw, float* partial)
    {
        for (int gi = 0; gi < Groups; gi++)
        for (int k = 0; k < Taps; k++)
        {
            float* src = partial + ((nint)gi * Taps + k) * Ld;
            float* dst = dw + (nint)gi * CoutPerGroup * Taps + k;
            for (int co = 0; co < CoutPerGroup; co++) dst[(nint)co * Taps] += src[co];
        }
    }
}

/// <summary>
/// What the forward does with each finished output row: add a bias (<paramref name="bias"/>), or apply an
/// evaluation-mode batch norm (<paramref name="scale"/>, <paramref name="shift"/>), then add a residual and keep the sum
/// (<paramref name="residual"/>, <paramref name="preActivation"/>: tensors laid out as the output
/// <paramref name="output"/>), then optionally a ReLU, per channel.
/// </summary>
internal readonly unsafe struct ConvEpilogue(float* bias, float* scale = null, float* shift = null, bool relu = false,
    float* output = null, float* residual = null, float* preActivation = null)
{
    /// <summary>dst (=, or += when <paramref name="accumulate"/>) the epilogue of src, <paramref name="length"/> values of channel <paramref name="channel"/>.</summary>
    public void Write(float* dst, float* src, int length, int channel, bool accumulate)
    {
        if (accumulate)
        {
            // Only a backward-input accumulates, and it has no bias or affine step.
            Debug.Assert(bias is null && scale is null);
            SimdLoops.Add(dst, src, length, SimdLevel.Vector256);
            return;
        }
        if (scale is null)
        {
            SimdLoops.ScaleShift(dst, src, 1f, bias is null ? 0f : bias[channel], length, SimdLevel.Vector256);
            return;
        }
        long at = dst - output;   // where this row sits in the output, and so in the residual and the sum
        SimdLoops.AffineEpilogue(dst, src, scale[channel], shift[channel], residual is null ? null : residual + at,
            preActivation is null ? null : preActivation + at, relu, length);
    }
}
