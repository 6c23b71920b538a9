namespace SharpNas.Engine.Kernels.Fast;

/// <summary>
/// How the direct (depthwise and pooling) kernels lay out one H×W plane: padded to PH = H + padTop + padBottom
/// rows of PW = W + padLeft + padRight columns, each padded row stored as <c>SW</c> column phases of
/// <see cref="LW"/> = ⌈PW/SW⌉ values (phase r holds columns r, r+SW, r+2·SW, …). With that layout the input values a
/// window tap reads for consecutive outputs of a row are contiguous whatever the stride, so every tap is a
/// plain vector loop.
/// </summary>
/// <remarks>
/// When the row stride SH is 1 the kernels treat a whole output plane as one run: output (oh, ow) lives at
/// <c>oh·RS + ow</c> of a run buffer with the padded row stride <see cref="RS"/>, and tap (kh, kw) reads the padded
/// plane at <c>run index + TapOffset(kh, kw)</c>; the RS − OW columns past each output row are computed and
/// discarded (or, for gradients, held at zero). Otherwise each output row is its own run of OW values that starts
/// at padded row oh·SH.
/// </remarks>
internal readonly struct PlaneGeometry
{
    public readonly int H, W, OH, OW, KH, KW, SH, SW, DH, DW, PadTop, PadLeft;
    /// <summary>Padded rows and columns.</summary>
    public readonly int PH, PW;
    /// <summary>Values per column phase, and the stored length of one padded row (SW·LW).</summary>
    public readonly int LW, RS;

    public PlaneGeometry(int h, int w, int oh, int ow, int kh, int kw, int sh, int sw, int dh, int dw,
        int padTop, int padLeft, int padBottom, int padRight)
    {
        H = h; W = w; OH = oh; OW = ow; KH = kh; KW = kw; SH = sh; SW = sw; DH = dh; DW = dw;
        PadTop = padTop; PadLeft = padLeft;
        PH = h + padTop + padBottom;
        PW = w + padLeft + padRight;
        LW = (PW + sw - 1) / sw;
        RS = sw * LW;
    }

    public static PlaneGeometry Of(in ConvGeometry g) => new(g.H, g.W, g.OH, g.OW, g.KH, g.KW, g.StrideH, g.StrideW,
        g.DilationH, g.DilationW, g.PadTop, g.PadLeft, g.PadBottom, g.PadRight);

    public static PlaneGeometry Of(in PoolGeometry g) => new(g.H, g.W, g.OH, g.OW, g.KH, g.KW, g.StrideH, g.StrideW,
        1, 1, g.PadTop, g.PadLeft, g.PadBottom, g.PadRight);

    /// <summary>Floats of one padded plane.</summary>
    public int PaddedSize => PH * RS;
    /// <summary>Whole plane as one run (row stride 1).</summary>
    public bool SingleRun => SH == 1;
    /// <summary>Values of one run: the whole plane with padded row stride, or one output row.</summary>
    public int RunLength => SingleRun ? (OH - 1) * RS + OW : OW;
    /// <summary>Runs per plane.</summary>
    public int Runs => SingleRun ? 1 : OH;
    /// <summary>Where run r starts in the padded plane.</summary>
    public int RunStart(int r) => r * SH * RS;
    /// <summary>Taps per window.</summary>
    public int Taps => KH * KW;

    /// <summary>Offset in the padded plane of padded column c of row 0.</summary>
    public int Column(int c) => c % SW * LW + c / SW;

    /// <summary>Fills offsets[t] (t = kh·KW + kw) with the padded-plane offset of tap (kh, kw) relative to a run.</summary>
    public unsafe void TapOffsets(int* offsets)
    {
        for (int kh = 0; kh < KH; kh++)
            for (int kw = 0; kw < KW; kw++)
                offsets[kh * KW + kw] = kh * DH * RS + Column(kw * DW);
    }

    /// <summary>Writes the padded plane of <paramref name="src"/> (H×W) into <paramref name="dst"/>, padding with <paramref name="fill"/>.</summary>
    public unsafe void Pad(float* src, float* dst, float fill)
    {
        new Span<float>(dst, PaddedSize).Fill(fill);
        for (int ih = 0; ih < H; ih++)
        {
            float* row = dst + (ih + PadTop) * RS;
            float* s = src + ih * W;
            if (SW == 1)
            {
                Buffer.MemoryCopy(s, row + PadLeft, (long)W * sizeof(float), (long)W * sizeof(float));
                continue;
            }
            for (int phase = 0; phase < SW; phase++)
            {
                // Input columns iw with (iw + PadLeft) % SW == phase, in order, land contiguously in the phase.
                int iw = ((phase - PadLeft) % SW + SW) % SW;
                float* d = row + phase * LW + (iw + PadLeft) / SW;
                for (; iw < W; iw += SW) *d++ = s[iw];
            }
        }
    }

    /// <summary>dst (H×W) += the interior of the padded plane <paramref name="padded"/>.</summary>
    public unsafe void AddInterior(float* padded, float* dst, SimdLevel level)
    {
        for (int ih = 0; ih < H; ih++)
        {
            float* row = padded + (ih + PadTop) * RS;
            float* d = dst + ih * W;
            if (SW == 1)
            {
                SimdLoops.Add(d, row + PadLeft, W, level);
                continue;
            }
            for (int phase = 0; phase < SW; phase++)
            {
                int iw = ((phase - PadLeft) % SW + SW) % SW;
                float* s = row + phase * LW + (iw + PadLeft) / SW;
                for (; iw < W; iw += SW) d[iw] += *s++;
            }
        }
    }

    /// <summary>The largest of the <paramref name="taps"/> tap offsets: the zero margin a backward gather needs in
    /// front of its run (single-run layout).</summary>
    public static unsafe int Reach(int* offsets, int taps)
    {
        int reach = 0;
        for (int t = 0; t < taps; t++) reach = Math.Max(reach, offsets[t]);
        return reach;
    }

    /// <summary>
    /// The gather form of a single-run backward: every interior row position q of <paramref name="padded"/> gets
    /// Σ_t w[t]·runs[q + gather[t]] (one <see cref="SimdLoops.MultiTap{TOp}"/>), then dst (H×W) += the interior. The
    /// caller lays its runs out in a zero-margined buffer so that gather[t] = margin − offset[t] for each run.
    /// </summary>
    public unsafe void GatherAddInterior(float* padded, float* runs, int* gather, float* w, int taps, float* dst, SimdLevel level)
    {
        int first = PadTop * RS;
        SimdLoops.MultiTap<MultiplyAddTap>(padded + first, runs + first, H * RS, gather, w, taps, 0f, level);
        AddInterior(padded, dst, level);
    }

    /// <summary>Copies output plane <paramref name="src"/> (OH×OW) into a run buffer with row stride RS, zeroing the
    /// columns past OW (single-run layout), scaled by <paramref name="scale"/> per output when it is not null.</summary>
    public unsafe void ToRun(float* src, float* run, float* scale)
    {
        for (int oh = 0; oh < OH; oh++)
        {
            float* d = run + oh * RS;
            float* s = src + oh * OW;
            if (scale is null) Buffer.MemoryCopy(s, d, (long)OW * sizeof(float), (long)OW * sizeof(float));
            else for (int ow = 0; ow < OW; ow++) d[ow] = s[ow] * scale[oh * OW + ow];
            if (oh < OH - 1) new Span<float>(d + OW, RS - OW).Clear();
        }
    }

    /// <summary>Copies the OH×OW outputs out of a run buffer with row stride RS.</summary>
    public unsafe void FromRun(float* run, float* dst)
    {
        for (int oh = 0; oh < OH; oh++)
            Buffer.MemoryCopy(run + oh * RS, dst + oh * OW, (long)OW * sizeof(float), (long)OW * sizeof(float));
    }
}
