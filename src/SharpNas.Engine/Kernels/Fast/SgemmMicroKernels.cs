// The SGEMM register tiles. Each computes one MR × NR tile of C from a packed panel of op(A) (kc × MR, column
// of MR values per step) and a packed panel of op(B) (kc × NR, row of NR values per step), keeping the whole tile
// in registers for the kc steps and touching C once. The code is unrolled by hand (one accumulator per register)
// because the JIT neither unrolls loops nor promotes array elements to registers.
// Blocking constants (MC, KC, NC) live with the tile they are tuned for; see docs/kernels.md.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SharpNas.Engine.Kernels.Fast;

/// <summary>
/// A register tile of the packed SGEMM, with the cache blocking it is tuned for. Implemented by structs so the
/// generic driver <see cref="SgemmDriver{TKernel}"/> is specialised per tile, with MR, NR, … as JIT-time constants.
/// </summary>
internal unsafe interface ISgemmMicroKernel
{
    /// <summary>Rows of the register tile (rows of C per tile, values of op(A) per packed step).</summary>
    static abstract int MR { get; }

    /// <summary>Columns of the register tile (values of op(B) per packed step).</summary>
    static abstract int NR { get; }

    /// <summary>Rows of op(A) packed at once (a multiple of MR): the packed A block, MC × KC, stays in L2.</summary>
    static abstract int MC { get; }

    /// <summary>Depth of one packed block: a kc × NR panel of B stays in L1 while A panels stream past it.</summary>
    static abstract int KC { get; }

    /// <summary>Columns of op(B) packed at once (a multiple of NR): the packed B block, KC × NC, stays in L3.</summary>
    static abstract int NC { get; }

    /// <summary>
    /// <c>C[r, j] = (accumulate ? C[r, j] : 0) + Σ_p a[p·MR + r] · b[p·NR + j]</c> for r &lt; MR, j &lt; NR, p &lt; kc,
    /// where <c>C[r, j] = c[r·ldc + j]</c>. <paramref name="b"/> must be aligned to the vector width; kc ≥ 1.
    /// </summary>
    static abstract void Tile(nint kc, float* a, float* b, float* c, nint ldc, bool accumulate);
}

/// <summary>AVX-512 tile, 8 × 32: 16 zmm accumulators, 2 loads of B and 8 broadcasts of A per step.</summary>
internal readonly unsafe struct SgemmTile512 : ISgemmMicroKernel
{
    public static int MR => 8;
    public static int NR => 32;
    public static int MC => 192;
    public static int KC => 256;
    public static int NC => 4096;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile(nint kc, float* a, float* b, float* c, nint ldc, bool accumulate)
    {
        Vector512<float> c00 = default; Vector512<float> c01 = default;
        Vector512<float> c10 = default; Vector512<float> c11 = default;
        Vector512<float> c20 = default; Vector512<float> c21 = default;
        Vector512<float> c30 = default; Vector512<float> c31 = default;
        Vector512<float> c40 = default; Vector512<float> c41 = default;
        Vector512<float> c50 = default; Vector512<float> c51 = default;
        Vector512<float> c60 = default; Vector512<float> c61 = default;
        Vector512<float> c70 = default; Vector512<float> c71 = default;
        for (nint p = 0; p < kc; p++)
        {
            Vector512<float> b0 = Vector512.LoadAligned(b + 0);
            Vector512<float> b1 = Vector512.LoadAligned(b + 16);
            Vector512<float> ar;
            ar = Vector512.Create(a[0]);
            c00 = MulAdd(ar, b0, c00); c01 = MulAdd(ar, b1, c01);
            ar = Vector512.Create(a[1]);
            c10 = MulAdd(ar, b0, c10); c11 = MulAdd(ar, b1, c11);
            ar = Vector512.Create(a[2]);
            c20 = MulAdd(ar, b0, c20); c21 = MulAdd(ar, b1, c21);
            ar = Vector512.Create(a[3]);
            c30 = MulAdd(ar, b0, c30); c31 = MulAdd(ar, b1, c31);
            ar = Vector512.Create(a[4]);
            c40 = MulAdd(ar, b0, c40); c41 = MulAdd(ar, b1, c41);
            ar = Vector512.Create(a[5]);
            c50 = MulAdd(ar, b0, c50); c51 = MulAdd(ar, b1, c51);
            ar = Vector512.Create(a[6]);
            c60 = MulAdd(ar, b0, c60); c61 = MulAdd(ar, b1, c61);
            ar = Vector512.Create(a[7]);
            c70 = MulAdd(ar, b0, c70); c71 = MulAdd(ar, b1, c71);
            a += 8;
            b += 32;
        }
        if (accumulate)
        {
            c00 += Vector512.Load(c + 0 * ldc + 0); c01 += Vector512.Load(c + 0 * ldc + 16);
            c10 += Vector512.Load(c + 1 * ldc + 0); c11 += Vector512.Load(c + 1 * ldc + 16);
            c20 += Vector512.Load(c + 2 * ldc + 0); c21 += Vector512.Load(c + 2 * ldc + 16);
            c30 += Vector512.Load(c + 3 * ldc + 0); c31 += Vector512.Load(c + 3 * ldc + 16);
            c40 += Vector512.Load(c + 4 * ldc + 0); c41 += Vector512.Load(c + 4 * ldc + 16);
            c50 += Vector512.Load(c + 5 * ldc + 0); c51 += Vector512.Load(c + 5 * ldc + 16);
            c60 += Vector512.Load(c + 6 * ldc + 0); c61 += Vector512.Load(c + 6 * ldc + 16);
            c70 += Vector512.Load(c + 7 * ldc + 0); c71 += Vector512.Load(c + 7 * ldc + 16);
        }
        c00.Store(c + 0 * ldc + 0); c01.Store(c + 0 * ldc + 16);
        c10.Store(c + 1 * ldc + 0); c11.Store(c + 1 * ldc + 16);
        c20.Store(c + 2 * ldc + 0); c21.Store(c + 2 * ldc + 16);
        c30.Store(c + 3 * ldc + 0); c31.Store(c + 3 * ldc + 16);
        c40.Store(c + 4 * ldc + 0); c41.Store(c + 4 * ldc + 16);
        c50.Store(c + 5 * ldc + 0); c51.Store(c + 5 * ldc + 16);
        c60.Store(c + 6 * ldc + 0); c61.Store(c + 6 * ldc + 16);
        c70.Store(c + 7 * ldc + 0); c71.Store(c + 7 * ldc + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> MulAdd(Vector512<float> x, Vector512<float> y, Vector512<float> z) =>
        Vector512.FusedMultiplyAdd(x, y, z);
}

/// <summary>AVX2 tile, 6 × 16: 12 ymm accumulators, 2 loads of B and 6 broadcasts of A per step (15 of 16 registers).</summary>
internal readonly unsafe struct SgemmTile256 : ISgemmMicroKernel
{
    public static int MR => 6;
    public static int NR => 16;
    public static int MC => 120;
    public static int KC => 256;
    public static int NC => 2048;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile(nint kc, float* a, float* b, float* c, nint ldc, bool accumulate)
    {
        Vector256<float> c00 = default; Vector256<float> c01 = default;
        Vector256<float> c10 = default; Vector256<float> c11 = default;
        Vector256<float> c20 = default; Vector256<float> c21 = default;
        Vector256<float> c30 = default; Vector256<float> c31 = default;
        Vector256<float> c40 = default; Vector256<float> c41 = default;
        Vector256<float> c50 = default; Vector256<float> c51 = default;
        for (nint p = 0; p < kc; p++)
        {
            Vector256<float> b0 = Vector256.LoadAligned(b + 0);
            Vector256<float> b1 = Vector256.LoadAligned(b + 8);
            Vector256<float> ar;
            ar = Vector256.Create(a[0]);
            c00 = MulAdd(ar, b0, c00); c01 = MulAdd(ar, b1, c01);
            ar = Vector256.Create(a[1]);
            c10 = MulAdd(ar, b0, c10); c11 = MulAdd(ar, b1, c11);
            ar = Vector256.Create(a[2]);
            c20 = MulAdd(ar, b0, c20); c21 = MulAdd(ar, b1, c21);
            ar = Vector256.Create(a[3]);
            c30 = MulAdd(ar, b0, c30); c31 = MulAdd(ar, b1, c31);
            ar = Vector256.Create(a[4]);
            c40 = MulAdd(ar, b0, c40); c41 = MulAdd(ar, b1, c41);
            ar = Vector256.Create(a[5]);
            c50 = MulAdd(ar, b0, c50); c51 = MulAdd(ar, b1, c51);
            a += 6;
            b += 16;
        }
        if (accumulate)
        {
            c00 += Vector256.Load(c + 0 * ldc + 0); c01 += Vector256.Load(c + 0 * ldc + 8);
            c10 += Vector256.Load(c + 1 * ldc + 0); c11 += Vector256.Load(c + 1 * ldc + 8);
            c20 += Vector256.Load(c + 2 * ldc + 0); c21 += Vector256.Load(c + 2 * ldc + 8);
            c30 += Vector256.Load(c + 3 * ldc + 0); c31 += Vector256.Load(c + 3 * ldc + 8);
            c40 += Vector256.Load(c + 4 * ldc + 0); c41 += Vector256.Load(c + 4 * ldc + 8);
            c50 += Vector256.Load(c + 5 * ldc + 0); c51 += Vector256.Load(c + 5 * ldc + 8);
        }
        c00.Store(c + 0 * ldc + 0); c01.Store(c + 0 * ldc + 8);
        c10.Store(c + 1 * ldc + 0); c11.Store(c + 1 * ldc + 8);
        c20.Store(c + 2 * ldc + 0); c21.Store(c + 2 * ldc + 8);
        c30.Store(c + 3 * ldc + 0); c31.Store(c + 3 * ldc + 8);
        c40.Store(c + 4 * ldc + 0); c41.Store(c + 4 * ldc + 8);
        c50.Store(c + 5 * ldc + 0); c51.Store(c + 5 * ldc + 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> MulAdd(Vector256<float> x, Vector256<float> y, Vector256<float> z) =>
        Fma.IsSupported ? Fma.MultiplyAdd(x, y, z) : x * y + z;
}

/// <summary>Scalar 4 × 4 tile: the fallback when no vector width is accelerated.</summary>
internal readonly unsafe struct SgemmTileScalar : ISgemmMicroKernel
{
    public static int MR => 4;
    public static int NR => 4;
    public static int MC => 64;
    public static int KC => 256;
    public static int NC => 1024;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile(nint kc, float* a, float* b, float* c, nint ldc, bool accumulate)
    {
        float c00 = 0; float c01 = 0; float c02 = 0; float c03 = 0;
        float c10 = 0; float c11 = 0; float c12 = 0; float c13 = 0;
        float c20 = 0; float c21 = 0; float c22 = 0; float c23 = 0;
        float c30 = 0; float c31 = 0; float c32 = 0; float c33 = 0;
        for (nint p = 0; p < kc; p++)
        {
            float b0 = b[0]; float b1 = b[1]; float b2 = b[2]; float b3 = b[3];
            float a0 = a[0];
            c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
            float a1 = a[1];
            c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
            float a2 = a[2];
            c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
            float a3 = a[3];
            c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
            a += 4;
            b += 4;
        }
        if (accumulate)
        {
            c00 += c[0 * ldc + 0]; c01 += c[0 * ldc + 1]; c02 += c[0 * ldc + 2]; c03 += c[0 * ldc + 3];
            c10 += c[1 * ldc + 0]; c11 += c[1 * ldc + 1]; c12 += c[1 * ldc + 2]; c13 += c[1 * ldc + 3];
            c20 += c[2 * ldc + 0]; c21 += c[2 * ldc + 1]; c22 += c[2 * ldc + 2]; c23 += c[2 * ldc + 3];
            c30 += c[3 * ldc + 0]; c31 += c[3 * ldc + 1]; c32 += c[3 * ldc + 2]; c33 += c[3 * ldc + 3];
        }
        c[0 * ldc + 0] = c00; c[0 * ldc + 1] = c01; c[0 * ldc + 2] = c02; c[0 * ldc + 3] = c03;
        c[1 * ldc + 0] = c10; c[1 * ldc + 1] = c11; c[1 * ldc + 2] = c12; c[1 * ldc + 3] = c13;
        c[2 * ldc + 0] = c20; c[2 * ldc + 1] = c21; c[2 * ldc + 2] = c22; c[2 * ldc + 3] = c23;
        c[3 * ldc + 0] = c30; c[3 * ldc + 1] = c31; c[3 * ldc + 2] = c32; c[3 * ldc + 3] = c33;
    }
}
