using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SharpNas.Engine.Kernels.Fast;

/// <summary>
/// The im2col matrix of one sample-group (K × P, K = Cin/groups·KH·KW, P = OH·OW) as an SGEMM B operand that is
/// packed straight from the input, never written out (implicit GEMM). The input is read from a zero-padded copy
/// (<see cref="PadInto"/>), so no tap needs a bounds check: row k = (c, kh, kw) of the matrix, at output pixel
/// (oh, ow), is <c>xp[offsets[k] + oh·strideH·Wp + ow·strideW]</c>, and a run of output pixels inside one output row
/// is a run of input values (contiguous at stride 1).
/// </summary>
/// <remarks>
/// Why: written out, the im2col matrix of one ResNet stage-1 sample is 576 KiB, larger than a 512 KiB L2; writing
/// it and reading it back to pack cost as much as the product itself. The padded input is 1/9 of that.
/// </remarks>
internal readonly unsafe struct ConvColumns(float* xp, int* offsets, int ow, int strideH, int strideW, int paddedWidth)
    : ISgemmPackB
{
    /// <summary>Writes the zero-padded copy of the sample-group <paramref name="xg"/> ([Cin/groups, H, W]) for
    /// <paramref name="g"/> into <paramref name="xp"/> ([Cin/groups, Hp, Wp]; see <see cref="PaddedSize"/>).</summary>
    public static void PadInto(in ConvGeometry g, float* xg, float* xp)
    {
        int hp = g.PadTop + g.H + g.PadBottom, wp = g.PadLeft + g.W + g.PadRight;
        nint rowBytes = (nint)g.W * sizeof(float);
        // Only the border is cleared (clearing the whole plane first cost as much as the copy).
        for (int c = 0; c < g.CinPerGroup; c++)
        {
            float* plane = xp + (nint)c * hp * wp;
            new Span<float>(plane, g.PadTop * wp).Clear();
            new Span<float>(plane + (nint)(g.PadTop + g.H) * wp, g.PadBottom * wp).Clear();
            float* src = xg + (nint)c * g.H * g.W;
            float* row = plane + (nint)g.PadTop * wp;
            for (int h = 0; h < g.H; h++, row += wp)
            {
                for (int j = 0; j < g.PadLeft; j++) row[j] = 0f;
                Buffer.MemoryCopy(src + (nint)h * g.W, row + g.PadLeft, rowBytes, rowBytes);
                for (int j = g.PadLeft + g.W; j < wp; j++) row[j] = 0f;
            }
        }
    }

    /// <summary>True when the input needs a padded copy (any padding); otherwise the sample is read in place.</summary>
    public static bool NeedsPadding(in ConvGeometry g) => (g.PadTop | g.PadBottom | g.PadLeft | g.PadRight) != 0;

    /// <summary>Floats of the padded copy of one sample-group.</summary>
    public static nint PaddedSize(in ConvGeometry g) =>
        (nint)g.CinPerGroup * (g.PadTop + g.H + g.PadBottom) * (g.PadLeft + g.W + g.PadRight);

    /// <summary>Fills <paramref name="offsets"/> (K entries): the offset of tap k = (c, kh, kw) in the padded input.</summary>
    public static void FillOffsets(in ConvGeometry g, int* offsets)
    {
        int hp = g.PadTop + g.H + g.PadBottom, wp = g.PadLeft + g.W + g.PadRight;
        int k = 0;
        for (int c = 0; c < g.CinPerGroup; c++)
        for (int kh = 0; kh < g.KH; kh++)
        for (int kw = 0; kw < g.KW; kw++)
            offsets[k++] = (c * hp + kh * g.DilationH) * wp + kw * g.DilationW;
    }

    /// <summary>The packer for one sample-group whose padded input is <paramref name="xp"/>.</summary>
    public static ConvColumns For(in ConvGeometry g, float* xp, int* offsets) =>
        new(xp, offsets, g.OW, g.StrideH, g.StrideW, g.PadLeft + g.W + g.PadRight);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Pack(int pc, int kc, int jc, int nc, int width, float* dst)
    {
        // A panel's columns are output pixels jc + q·width + j; cut them into runs that stay inside one output row.
        int* runStart = stackalloc int[width];
        int* runSource = stackalloc int[width];
        int* runLength = stackalloc int[width];
        for (int j0 = jc, q = 0; j0 < jc + nc; j0 += width, q++)
        {
            int count = Math.Min(width, jc + nc - j0), runs = 0;
            for (int filled = 0; filled < count; runs++)
            {
                int o = j0 + filled, oh = o / ow, col = o - oh * ow;
                int length = Math.Min(count - filled, ow - col);
                runStart[runs] = filled;
                runSource[runs] = oh * strideH * paddedWidth + col * strideW;
                runLength[runs] = length;
                filled += length;
            }
            float* panel = dst + (nint)q * width * kc;
            if (runs == 1 && count == width && strideW == 1 && width % Vector256<float>.Count == 0)
                PackWholeRun(pc, kc, width, xp + runSource[0], panel);
            else
                PackRuns(pc, kc, width, count, runs, runStart, runSource, runLength, panel);
        }
    }

    /// <summary>The common case: the panel is one contiguous run of the input per tap.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PackWholeRun(int pc, int kc, int width, float* source, float* panel)
    {
        for (int p = 0; p < kc; p++)
        {
            float* s = source + offsets[pc + p];
            float* d = panel + (nint)p * width;
            for (int j = 0; j < width; j += Vector256<float>.Count)
                Vector256.Store(Vector256.Load(s + j), d + j);
        }
    }

    private void PackRuns(int pc, int kc, int width, int count, int runs, int* runStart, int* runSource, int* runLength, float* panel)
    {
        for (int p = 0; p < kc; p++)
        {
            float* s = xp + offsets[pc + p];
            float* d = panel + (nint)p * width;
            for (int r = 0; r < runs; r++)
            {
                float* src = s + runSource[r];
                float* dr = d + runStart[r];
                int length = runLength[r];
                if (strideW == 1)
                    for (int j = 0; j < length; j++) dr[j] = src[j];
                else
                    for (int j = 0; j < length; j++) dr[j] = src[j * strideW];
            }
            for (int j = count; j < width; j++) d[j] = 0;
        }
    }
}
