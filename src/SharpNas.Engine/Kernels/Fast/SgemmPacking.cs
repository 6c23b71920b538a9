using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SharpNas.Engine.Kernels.Fast;

/// <summary>
/// The two packing shapes of the SGEMM. A packed panel of width R (MR for A, NR for B) stores, for each step p,
/// R consecutive values: <c>dst[p·R + r]</c>.
/// <list type="bullet">
/// <item><see cref="Gather"/>: the R values of a step are contiguous in the source (op(A) transposed, op(B) plain):
/// one short copy per step and panel.</item>
/// <item><see cref="Transpose"/>: the source holds R rows, each contiguous along p (op(A) plain, op(B) transposed):
/// a transpose, done 8 × 8 at a time with AVX shuffles.</item>
/// </list>
/// Values past the valid rows or columns are written as zeros, so a partial panel still feeds a full register tile.
/// </summary>
internal static unsafe class SgemmPacking
{
    /// <summary>
    /// Packs <paramref name="count"/> columns into panels of <paramref name="width"/>:
    /// <c>dst[q·R·kc + p·R + r] = q·R + r &lt; count ? src[p·ld + q·R + r] : 0</c> for p &lt; kc.
    /// The source is read one row p at a time across all panels, so each row is one sequential stream that the
    /// hardware prefetcher follows (reading panel by panel would touch kc rows, often a page apart, per 64 bytes).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gather(float* src, nint ld, int count, int width, int kc, float* dst)
    {
        int full = count / width, rest = count - full * width;
        nint panelStride = (nint)width * kc;
        uint bytes = (uint)(width * sizeof(float));
        for (int p = 0; p < kc; p++)
        {
            float* s = src + p * ld;
            float* d = dst + (nint)p * width;
            for (int q = 0; q < full; q++)
            {
                Unsafe.CopyBlockUnaligned(d, s, bytes);
                s += width;
                d += panelStride;
            }
            if (rest > 0)
            {
                int r = 0;
                for (; r < rest; r++) d[r] = s[r];
                for (; r < width; r++) d[r] = 0;
            }
        }
    }

    /// <summary><c>dst[p·R + r] = r &lt; valid ? src[r·ld + p] : 0</c> for p &lt; kc, r &lt; R.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Transpose(float* src, nint ld, int valid, int width, int kc, float* dst)
    {
        int p0 = 0;
        if (Avx.IsSupported && kc >= 8)
        {
            int kc8 = kc & ~7;
            for (int r0 = 0; r0 < width; r0 += 8)
            {
                int rows = Math.Min(8, width - r0);
                for (int p = 0; p < kc8; p += 8)
                    Transpose8x8(src + r0 * ld + p, ld, valid - r0, rows, dst + (nint)p * width + r0, width);
            }
            p0 = kc8;
        }
        for (int r = 0; r < width; r++)
        {
            float* d = dst + r;
            if (r < valid)
            {
                float* s = src + r * ld;
                for (int p = p0; p < kc; p++) d[(nint)p * width] = s[p];
            }
            else
            {
                for (int p = p0; p < kc; p++) d[(nint)p * width] = 0;
            }
        }
    }

    /// <summary>Reads up to 8 rows of 8 floats (rows at or past <paramref name="valid"/> read as zero) and writes,
    /// for each of the 8 columns q, the first <paramref name="rows"/> values of column q at <c>dst + q·dstStride</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* src, nint ld, int valid, int rows, float* dst, nint dstStride)
    {
        Vector256<float> r0 = valid > 0 ? Vector256.Load(src) : default;
        Vector256<float> r1 = valid > 1 ? Vector256.Load(src + ld) : default;
        Vector256<float> r2 = valid > 2 ? Vector256.Load(src + 2 * ld) : default;
        Vector256<float> r3 = valid > 3 ? Vector256.Load(src + 3 * ld) : default;
        Vector256<float> r4 = valid > 4 ? Vector256.Load(src + 4 * ld) : default;
        Vector256<float> r5 = valid > 5 ? Vector256.Load(src + 5 * ld) : default;
        Vector256<float> r6 = valid > 6 ? Vector256.Load(src + 6 * ld) : default;
        Vector256<float> r7 = valid > 7 ? Vector256.Load(src + 7 * ld) : default;

        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
        Vector256<float> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5);
        Vector256<float> t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);

        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE);
        Vector256<float> u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE);
        Vector256<float> u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);

        // Column q of the 8 × 8 block.
        StoreColumn(Avx.Permute2x128(u0, u4, 0x20), dst, rows);
        StoreColumn(Avx.Permute2x128(u1, u5, 0x20), dst + dstStride, rows);
        StoreColumn(Avx.Permute2x128(u2, u6, 0x20), dst + 2 * dstStride, rows);
        StoreColumn(Avx.Permute2x128(u3, u7, 0x20), dst + 3 * dstStride, rows);
        StoreColumn(Avx.Permute2x128(u0, u4, 0x31), dst + 4 * dstStride, rows);
        StoreColumn(Avx.Permute2x128(u1, u5, 0x31), dst + 5 * dstStride, rows);
        StoreColumn(Avx.Permute2x128(u2, u6, 0x31), dst + 6 * dstStride, rows);
        StoreColumn(Avx.Permute2x128(u3, u7, 0x31), dst + 7 * dstStride, rows);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreColumn(Vector256<float> column, float* dst, int rows)
    {
        switch (rows)
        {
            case 8:
                column.Store(dst);
                break;
            case 6:
                column.GetLower().Store(dst);
                Unsafe.WriteUnaligned(dst + 4, column.GetUpper().AsDouble().ToScalar());
                break;
            case 4:
                column.GetLower().Store(dst);
                break;
            default:
                for (int r = 0; r < rows; r++) dst[r] = column.GetElement(r);
                break;
        }
    }
}
