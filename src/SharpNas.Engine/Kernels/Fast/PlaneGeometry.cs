using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SharpNas.Engine.Kernels.Fast;

/// <summary>
/// How the direct (depthwise and pooling) kernels lay out one H×W plane: padded to PH = H + padTop + padBottom rows
/// of PW = W + padLeft + padRight columns, then split into SH·SW phase planes of <see cref="LH"/> × <see cref="LW"/>
/// values (phase (a, b) holds the padded rows ≡ a mod SH and the columns ≡ b mod SW, in order). Each window tap reads
/// one phase plane at stride 1 in both directions, so for the outputs in row-major order every tap is one contiguous
/// vector loop whatever the stride: output (oh, ow) lives at <c>oh·RS + ow</c> of a single "run" with the phase row
/// stride <see cref="RS"/> = LW, and tap (kh, kw) reads the padded planes at <c>run index + TapOffset(kh, kw)</c>.
/// The RS − OW columns past each output row are computed and discarded (or, for gradients, held at zero). At stride 1
/// there is one phase plane, the padded plane itself.
/// </summary>
internal readonly struct PlaneGeometry
{
    public readonly int H, W, OH, OW, KH, KW, SH, SW, DH, DW, PadTop, PadLeft;
    /// <summary>Padded rows and columns.</summary>
    public readonly int PH, PW;
    /// <summary>Rows and columns of each phase plane: ⌈PH/SH⌉ and ⌈PW/SW⌉.</summary>
    public readonly int LH, LW;

    public PlaneGeometry(int h, int w, int oh, int ow, int kh, int kw, int sh, int sw, int dh, int dw,
        int padTop, int padLeft, int padBottom, int padRight)
    {
        H = h; W = w; OH = oh; OW = ow; KH = kh; KW = kw; SH = sh; SW = sw; DH = dh; DW = dw;
        PadTop = padTop; PadLeft = padLeft;
        PH = h + padTop + padBottom;
        PW = w + padLeft + padRight;
        LH = (PH + sh - 1) / sh;
        LW = (PW + sw - 1) / sw;
    }

    public static PlaneGeometry Of(in ConvGeometry g) => new(g.H, g.W, g.OH, g.OW, g.KH, g.KW, g.StrideH, g.StrideW,
        g.DilationH, g.DilationW, g.PadTop, g.PadLeft, g.PadBottom, g.PadRight);

    public static PlaneGeometry Of(in PoolGeometry g) => new(g.H, g.W, g.OH, g.OW, g.KH, g.KW, g.StrideH, g.StrideW,
        1, 1, g.PadTop, g.PadLeft, g.PadBottom, g.PadRight);

    /// <summary>Row stride of the run (and of each phase plane).</summary>
    public int RS => LW;
    /// <summary>Phase planes: SH·SW.</summary>
    public int Phases => SH * SW;
    /// <summary>Floats of one phase plane.</summary>
    public int PhaseSize => LH * LW;
    /// <summary>Floats of the padded planes.</summary>
    public int PaddedSize => Phases * PhaseSize;
    /// <summary>Values of the run: OH rows at stride RS, the last one OW long.</summary>
    public int RunLength => (OH - 1) * RS + OW;
    /// <summary>Taps per window.</summary>
    public int Taps => KH * KW;

    /// <summary>Offset in the padded planes of padded row <paramref name="r"/>, column <paramref name="c"/>.</summary>
    public int Position(int r, int c) => (r % SH * SW + c % SW) * PhaseSize + r / SH * LW + c / SW;

    /// <summary>The phase plane tap t = kh·KW + kw reads.</summary>
    public int PhaseOfTap(int t) => t / KW * DH % SH * SW + t % KW * DW % SW;

    /// <summary>Fills offsets[t] (t = kh·KW + kw) with the padded-plane offset of tap (kh, kw) relative to a run.</summary>
    public unsafe void TapOffsets(int* offsets)
    {
        for (int kh = 0; kh < KH; kh++)
            for (int kw = 0; kw < KW; kw++)
                offsets[kh * KW + kw] = Position(kh * DH, kw * DW);
    }

    /// <summary>Writes the padded planes of <paramref name="src"/> (H×W) into <paramref name="dst"/>, padding with <paramref name="fill"/>.</summary>
    public unsafe void Pad(float* src, float* dst, float fill)
    {
        new Span<float>(dst, PaddedSize).Fill(fill);
        if (Phases == 1)
        {
            for (int ih = 0; ih < H; ih++)
                CopyRow(dst + (ih + PadTop) * RS + PadLeft, src + ih * W, W);
            return;
        }
        int* firstColumn = stackalloc int[SW];
        int* columnPart = stackalloc int[SW];
        ColumnPhases(firstColumn, columnPart);
        for (int ih = 0; ih < H; ih++)
        {
            float* s = src + ih * W;
            float* row = dst + RowPart(ih + PadTop);
            if (SW == 2)
            {
                // Column 0 goes to phase PadLeft % 2, column 1 to the other.
                int even = PadLeft % 2;
                Deinterleave(s, W, row + columnPart[even], row + columnPart[1 - even]);
                continue;
            }
            for (int phase = 0; phase < SW; phase++)
            {
                float* d = row + columnPart[phase];
                for (int iw = firstColumn[phase]; iw < W; iw += SW) *d++ = s[iw];
            }
        }
    }

    /// <summary>even[q] = s[2q] and odd[q] = s[2q + 1] for the <paramref name="count"/> values of s.</summary>
    private static unsafe void Deinterleave(float* s, int count, float* even, float* odd)
    {
        int q = 0;
        if (Avx2.IsSupported)
            for (; q <= count / 2 - 8; q += 8)
            {
                Vector256<float> lo = Vector256.Load(s + 2 * q), hi = Vector256.Load(s + 2 * q + 8);
                // Shuffle takes lanes (0, 2) / (1, 3) of each 128-bit half of lo and hi; Permute4x64 puts lo's before hi's.
                Avx2.Permute4x64(Avx.Shuffle(lo, hi, 0b10_00_10_00).AsDouble(), 0b11_01_10_00).AsSingle().Store(even + q);
                Avx2.Permute4x64(Avx.Shuffle(lo, hi, 0b11_01_11_01).AsDouble(), 0b11_01_10_00).AsSingle().Store(odd + q);
            }
        for (; 2 * q + 1 < count; q++)
        {
            even[q] = s[2 * q];
            odd[q] = s[2 * q + 1];
        }
        if (2 * q < count) even[q] = s[2 * q];
    }

    /// <summary>dst (H×W) += the interior of the padded planes <paramref name="padded"/>, or, with
    /// <paramref name="store"/>, dst = the interior.</summary>
    public unsafe void AddInterior(float* padded, float* dst, SimdLevel level, bool store = false)
    {
        if (Phases == 1)
        {
            for (int ih = 0; ih < H; ih++)
            {
                float* interior = padded + (ih + PadTop) * RS + PadLeft;
                if (store) CopyRow(dst + ih * W, interior, W);
                else SimdLoops.Add(dst + ih * W, interior, W, level);
            }
            return;
        }
        int* firstColumn = stackalloc int[SW];
        int* columnPart = stackalloc int[SW];
        ColumnPhases(firstColumn, columnPart);
        for (int ih = 0; ih < H; ih++)
        {
            float* d = dst + ih * W;
            float* row = padded + RowPart(ih + PadTop);
            if (SW == 2)
            {
                int even = PadLeft % 2;
                Interleave(d, W, row + columnPart[even], row + columnPart[1 - even], store);
                continue;
            }
            for (int phase = 0; phase < SW; phase++)
            {
                // The phases partition the columns: with store every value of the row is written once.
                float* s = row + columnPart[phase];
                for (int iw = firstColumn[phase]; iw < W; iw += SW, s++) d[iw] = store ? *s : d[iw] + *s;
            }
        }
    }

    /// <summary>d[2q] += even[q] and d[2q + 1] += odd[q] for the <paramref name="count"/> values of d (= with
    /// <paramref name="store"/>).</summary>
    private static unsafe void Interleave(float* d, int count, float* even, float* odd, bool store)
    {
        int q = 0;
        if (Avx2.IsSupported)
            for (; q <= count / 2 - 8; q += 8)
            {
                Vector256<float> e = Vector256.Load(even + q), o = Vector256.Load(odd + q);
                // Unpack pairs lanes within each 128-bit half; Permute2x128 puts the halves back in order.
                Vector256<float> low = Avx.UnpackLow(e, o), high = Avx.UnpackHigh(e, o);
                Vector256<float> first = Avx.Permute2x128(low, high, 0x20), second = Avx.Permute2x128(low, high, 0x31);
                if (!store)
                {
                    first += Vector256.Load(d + 2 * q);
                    second += Vector256.Load(d + 2 * q + 8);
                }
                first.Store(d + 2 * q);
                second.Store(d + 2 * q + 8);
            }
        for (; 2 * q + 1 < count; q++)
        {
            d[2 * q] = store ? even[q] : d[2 * q] + even[q];
            d[2 * q + 1] = store ? odd[q] : d[2 * q + 1] + odd[q];
        }
        if (2 * q < count) d[2 * q] = store ? even[q] : d[2 * q] + even[q];
    }

    /// <summary>dst[i] = src[i] for i &lt; n: a plane row (8–32 floats in the CIFAR networks), copied in vectors inline
    /// rather than through a Memmove call per row. The ranges do not overlap.</summary>
    private static unsafe void CopyRow(float* dst, float* src, int n)
    {
        int i = 0;
        for (; i <= n - 8; i += 8) Vector256.Store(Vector256.Load(src + i), dst + i);
        for (; i < n; i++) dst[i] = src[i];
    }

    /// <summary>The part of <see cref="Position"/> that depends on the padded row.</summary>
    private int RowPart(int r) => r % SH * SW * PhaseSize + r / SH * LW;

    /// <summary>Per column phase: the first input column iw with (iw + PadLeft) % SW == phase, and the part of its
    /// <see cref="Position"/> that depends on the column. The input columns of a phase, in order, are contiguous
    /// from there.</summary>
    private unsafe void ColumnPhases(int* firstColumn, int* columnPart)
    {
        for (int phase = 0; phase < SW; phase++)
        {
            int iw = ((phase - PadLeft) % SW + SW) % SW;
            firstColumn[phase] = iw;
            columnPart[phase] = phase * PhaseSize + (iw + PadLeft) / SW;
        }
    }

    /// <summary>The largest of the <paramref name="taps"/> tap offsets: the zero margin a backward gather needs in
    /// front of its run.</summary>
    public static unsafe int Reach(int* offsets, int taps)
    {
        int reach = 0;
        for (int t = 0; t < taps; t++) reach = Math.Max(reach, offsets[t]);
        return reach;
    }

    /// <summary>
    /// The gather form of a backward: every padded position q gets Σ_t w[t]·runs[q + gather[t]] over the taps t that
    /// read q's phase plane (one <see cref="SimdLoops.MultiTap{TOp}"/> per phase plane; at stride 1 one over the interior
    /// rows), then dst (H×W) += the interior (or, with <paramref name="store"/>, dst = the interior). The caller lays
    /// its runs out in a zero-margined buffer so that gather[i] = margin − offset[i % Taps] for each run: entry i is tap
    /// i % Taps of one run. <paramref name="order"/> and <paramref name="start"/> group the entries by phase plane
    /// (<see cref="GroupByPhase"/>, once per job).
    /// </summary>
    public unsafe void GatherAddInterior(float* padded, float* runs, int* gather, float* w, int count, int* order, int* start,
        float* dst, SimdLevel level, bool store = false)
    {
        if (Phases == 1)
        {
            int first = PadTop * RS;
            SimdLoops.MultiTap<MultiplyAddTap>(padded + first, runs + first, H * RS, gather, w, count, 0f, level);
        }
        else
        {
            int* phaseGather = stackalloc int[count];
            float* phaseW = stackalloc float[count];
            for (int phase = 0; phase < Phases; phase++)
            {
                int k = 0;
                for (int j = start[phase]; j < start[phase + 1]; j++, k++)
                {
                    phaseGather[k] = gather[order[j]];
                    phaseW[k] = w[order[j]];
                }
                float* plane = padded + phase * PhaseSize;
                if (k == 0) new Span<float>(plane, PhaseSize).Clear();   // no tap reads it: no gradient reaches it
                else SimdLoops.MultiTap<MultiplyAddTap>(plane, runs + phase * PhaseSize, PhaseSize, phaseGather, phaseW, k, 0f, level);
            }
        }
        AddInterior(padded, dst, level, store);
    }

    /// <summary>Groups <paramref name="count"/> gather entries (entry i is tap i % Taps) by the phase plane their tap
    /// reads: phase p's entries are order[start[p]] … order[start[p + 1] − 1], in entry order. start holds Phases + 1
    /// values.</summary>
    public unsafe void GroupByPhase(int count, int* order, int* start)
    {
        int k = 0;
        for (int phase = 0; phase < Phases; phase++)
        {
            start[phase] = k;
            for (int i = 0; i < count; i++)
                if (PhaseOfTap(i % Taps) == phase) order[k++] = i;
        }
        start[Phases] = k;
    }

    /// <summary>Copies output plane <paramref name="src"/> (OH×OW) into a run buffer with row stride RS, zeroing the
    /// columns past OW, scaled by <paramref name="scale"/> per output when it is not null.</summary>
    public unsafe void ToRun(float* src, float* run, float* scale)
    {
        for (int oh = 0; oh < OH; oh++)
        {
            float* d = run + oh * RS;
            float* s = src + oh * OW;
            if (scale is null) CopyRow(d, s, OW);
            else for (int ow = 0; ow < OW; ow++) d[ow] = s[ow] * scale[oh * OW + ow];
            if (oh < OH - 1) new Span<float>(d + OW, RS - OW).Clear();
        }
    }

    /// <summary>Copies the OH×OW outputs out of a run buffer with row stride RS.</summary>
    public unsafe void FromRun(float* run, float* dst)
    {
        for (int oh = 0; oh < OH; oh++)
            CopyRow(dst + oh * OW, run + oh * RS, OW);
    }
}
