// Convolution as matrix products, one (sample, group) at a time:
//   forward          Y[n,g]  (CoutG × P)  = W[g] (CoutG × K) · cols(X[n,g]) (K × P)
//   backward input   dcols   (K × P)      = W[g]ᵀ · dY[n,g];  dX[n,g] += col2im(dcols)
//   backward weight  dW[g]   (CoutG × K) += dY[n,g] · cols(X[n,g])ᵀ
// with K = Cin/groups·KH·KW and P = OH·OW. A 1×1, stride-1, unpadded conv uses X[n,g] itself as cols (no im2col).
// The forward never writes cols: SGEMM packs its panels straight from a zero-padded copy of X[n,g] (ConvColumns),
// and a stride-1 backward-input is the forward of dY with the spatially flipped, channel-swapped weights (no col2im).
// Work items (sample, group) are split over the pool's participants; each runs its GEMMs single-threaded with its
// own im2col buffer. Weight gradients go to one partial per participant, added into dW in participant order by
// whichever participant finishes last, so dW depends only on the thread count, never on timing.
using SharpNas.Engine.Parallel;

namespace SharpNas.Engine.Kernels.Fast;

internal static unsafe class GemmConv
{
    /// <summary>True when the conv is a plain matrix product per sample (1×1 kernel, stride 1, no padding).</summary>
    public static bool IsPointwise(in ConvGeometry g) =>
        g.KH == 1 && g.KW == 1 && g.StrideH == 1 && g.StrideW == 1 && g.PadTop == 0 && g.PadLeft == 0 && g.PadBottom == 0 && g.PadRight == 0;

    public static void Forward(in ConvGeometry g, float* x, float* w, float* bias, float* y, WorkerPool pool, KernelScratch scratch, SimdLevel level)
    {
        if (DirectConv.Applies(g, level)) DirectConv.Forward(g, x, ConvWeights.Plain(w), new ConvEpilogue(bias), y, accumulate: false, pool, scratch, level);
        else pool.Run(g.N * g.Groups, new ForwardJob(g, x, ConvWeights.Plain(w), bias, y, pool, scratch, level));
    }

    /// <summary>dx += ∂/∂x, or, for a pointwise conv when not <paramref name="accumulate"/>, dx = ∂/∂x.</summary>
    public static void BackwardInput(in ConvGeometry g, float* dy, float* w, float* dx, WorkerPool pool, KernelScratch scratch, SimdLevel level,
        bool accumulate = true)
    {
        if (!accumulate && !IsPointwise(g)) throw new ArgumentException("GemmConv: only a pointwise backward-input can store instead of add");
        if (!IsPointwise(g) && TransposedGeometry(g) is { } t)
        {
            // dX += conv(dY, W flipped in space with in/out channels swapped), stride 1: the implicit forward, no col2im.
            var flipped = ConvWeights.Flipped(g, w);
            if (DirectConv.Applies(t, level)) DirectConv.Forward(t, dy, flipped, default, dx, accumulate: true, pool, scratch, level);
            else pool.Run(t.N * t.Groups, new ForwardJob(t, dy, flipped, null, dx, pool, scratch, level, accumulate: true));
            return;
        }
        pool.Run(g.N * g.Groups, new BackwardInputJob(g, dy, w, dx, pool, scratch, level, accumulate));
    }

    /// <summary>For a stride-1 conv whose padding is at most its dilated reach on every side, the forward geometry
    /// that maps dY to dX: input [N, Cout, OH, OW], kernel KH × KW, padding (KH−1)·dH − PadTop etc.; else null.</summary>
    public static ConvGeometry? TransposedGeometry(in ConvGeometry g)
    {
        int reachH = (g.KH - 1) * g.DilationH, reachW = (g.KW - 1) * g.DilationW;
        if (g.StrideH != 1 || g.StrideW != 1 || g.PadTop > reachH || g.PadBottom > reachH || g.PadLeft > reachW || g.PadRight > reachW)
            return null;
        return ConvGeometry.Create("conv2d backward input", [g.N, g.Cout, g.OH, g.OW], [g.Cin, g.CoutPerGroup, g.KH, g.KW], 1, 1,
            reachH - g.PadTop, reachW - g.PadLeft, reachH - g.PadBottom, reachW - g.PadRight, g.DilationH, g.DilationW, g.Groups);
    }

    public static void BackwardWeight(in ConvGeometry g, float* x, float* dy, float* dw, WorkerPool pool, KernelScratch scratch,
        WeightGradientReduction reduction, SimdLevel level)
    {
        if (DirectConv.Applies(g, level)) DirectConv.BackwardWeight(g, x, dy, dw, pool, scratch, reduction, level);
        else pool.Run(g.N * g.Groups, new BackwardWeightJob(g, x, dy, dw, pool, scratch, reduction, level));
    }

    /// <summary>Writes the K × P column matrix of one sample-group <paramref name="xg"/> ([Cin/groups, H, W]).</summary>
    public static void Im2Col(in ConvGeometry g, float* xg, float* cols)
    {
        int p = g.OH * g.OW;
        for (int c = 0; c < g.CinPerGroup; c++)
        for (int kh = 0; kh < g.KH; kh++)
        for (int kw = 0; kw < g.KW; kw++)
        {
            float* dst = cols + (nint)((c * g.KH + kh) * g.KW + kw) * p;
            ColumnRange(g, kw, out int iw0, out int lo, out int hi);
            for (int oh = 0; oh < g.OH; oh++)
            {
                float* d = dst + oh * g.OW;
                int ih = oh * g.StrideH - g.PadTop + kh * g.DilationH;
                if ((uint)ih >= (uint)g.H || lo >= hi)
                {
                    new Span<float>(d, g.OW).Clear();
                    continue;
                }
                float* s = xg + ((nint)c * g.H + ih) * g.W + iw0;
                if (lo > 0) new Span<float>(d, lo).Clear();
                if (g.StrideW == 1) Buffer.MemoryCopy(s + lo, d + lo, (long)(hi - lo) * sizeof(float), (long)(hi - lo) * sizeof(float));
                else for (int ow = lo; ow < hi; ow++) d[ow] = s[ow * g.StrideW];
                if (hi < g.OW) new Span<float>(d + hi, g.OW - hi).Clear();
            }
        }
    }

    /// <summary>dxg ([Cin/groups, H, W]) += the image of the K × P column matrix (the adjoint of <see cref="Im2Col"/>).</summary>
    public static void Col2ImAdd(in ConvGeometry g, float* cols, float* dxg, SimdLevel level)
    {
        int p = g.OH * g.OW;
        for (int c = 0; c < g.CinPerGroup; c++)
        for (int kh = 0; kh < g.KH; kh++)
        for (int kw = 0; kw < g.KW; kw++)
        {
            float* src = cols + (nint)((c * g.KH + kh) * g.KW + kw) * p;
            ColumnRange(g, kw, out int iw0, out int lo, out int hi);
            if (lo >= hi) continue;
            for (int oh = 0; oh < g.OH; oh++)
            {
                int ih = oh * g.StrideH - g.PadTop + kh * g.DilationH;
                if ((uint)ih >= (uint)g.H) continue;
                float* s = src + oh * g.OW;
                float* d = dxg + ((nint)c * g.H + ih) * g.W + iw0;
                if (g.StrideW == 1) SimdLoops.Add(d + lo, s + lo, hi - lo, level);
                else for (int ow = lo; ow < hi; ow++) d[ow * g.StrideW] += s[ow];
            }
        }
    }

    /// <summary>For kernel column kw: input column of output 0 (iw0, may be negative) and the outputs [lo, hi) whose
    /// input column lies inside the image.</summary>
    private static void ColumnRange(in ConvGeometry g, int kw, out int iw0, out int lo, out int hi)
    {
        iw0 = kw * g.DilationW - g.PadLeft;
        lo = iw0 >= 0 ? 0 : Math.Min(g.OW, (-iw0 + g.StrideW - 1) / g.StrideW);
        hi = g.W - 1 - iw0 < 0 ? 0 : Math.Min(g.OW, (g.W - 1 - iw0) / g.StrideW + 1);
    }

    private readonly struct ForwardJob(ConvGeometry g, float* x, ConvWeights weights, float* bias, float* y, WorkerPool pool, KernelScratch scratch,
        SimdLevel level, bool accumulate = false) : IParallelJob
    {
        public void Execute(int begin, int end, int participant)
        {
            float* w = weights.Resolve(participant, scratch);
            int p = g.OH * g.OW, k = g.CinPerGroup * g.KH * g.KW, coutG = g.CoutPerGroup;
            bool pointwise = IsPointwise(g), padded = ConvColumns.NeedsPadding(g);
            float* xp = padded ? scratch.Floats(participant, KernelSlot.Padded, ConvColumns.PaddedSize(g)) : null;
            int* offsets = pointwise ? null : (int*)scratch.Floats(participant, KernelSlot.ColumnOffsets, k);
            if (!pointwise) ConvColumns.FillOffsets(g, offsets);
            WorkerScratch gemmScratch = pool.Scratch(participant);
            for (int item = begin; item < end; item++)
            {
                int n = item / g.Groups, gi = item % g.Groups;
                float* xg = x + ((nint)n * g.Cin + gi * g.CinPerGroup) * g.H * g.W;
                float* yg = y + ((nint)n * g.Cout + gi * coutG) * p;
                float* wg = w + (nint)gi * coutG * k;
                if (pointwise)
                {
                    // Runs inline on this participant: the pool does not nest.
                    Sgemm.Multiply(false, false, coutG, p, k, wg, k, xg, p, yg, p, accumulate, pool, level);
                }
                else
                {
                    if (padded) ConvColumns.PadInto(g, xg, xp);
                    var columns = ConvColumns.For(g, padded ? xp : xg, offsets);
                    Sgemm.MultiplyPackedB(false, coutG, p, k, wg, k, columns, yg, p, accumulate, gemmScratch, level);
                }
                if (bias is not null)
                    for (int co = 0; co < coutG; co++)
                    {
                        float b = bias[gi * coutG + co];
                        float* row = yg + (nint)co * p;
                        SimdLoops.ScaleShift(row, row, 1f, b, p, level);
                    }
            }
        }
    }

    private readonly struct BackwardInputJob(ConvGeometry g, float* dy, float* w, float* dx, WorkerPool pool, KernelScratch scratch, SimdLevel level,
        bool accumulate) : IParallelJob
    {
        public void Execute(int begin, int end, int participant)
        {
            int p = g.OH * g.OW, k = g.CinPerGroup * g.KH * g.KW, coutG = g.CoutPerGroup;
            bool pointwise = IsPointwise(g);
            float* cols = pointwise ? null : scratch.Floats(participant, KernelSlot.Columns, (nint)k * p);
            for (int item = begin; item < end; item++)
            {
                int n = item / g.Groups, gi = item % g.Groups;
                float* dxg = dx + ((nint)n * g.Cin + gi * g.CinPerGroup) * g.H * g.W;
                float* dyg = dy + ((nint)n * g.Cout + gi * coutG) * p;
                float* wg = w + (nint)gi * coutG * k;
                if (pointwise)
                {
                    Sgemm.Multiply(true, false, k, p, coutG, wg, k, dyg, p, dxg, p, accumulate, pool, level);
                }
                else
                {
                    Sgemm.Multiply(true, false, k, p, coutG, wg, k, dyg, p, cols, p, false, pool, level);
                    Col2ImAdd(g, cols, dxg, level);
                }
            }
        }
    }

    private readonly struct BackwardWeightJob(ConvGeometry g, float* x, float* dy, float* dw, WorkerPool pool, KernelScratch scratch,
        WeightGradientReduction reduction, SimdLevel level) : IParallelJob
    {
        public void Execute(int begin, int end, int participant)
        {
            int p = g.OH * g.OW, k = g.CinPerGroup * g.KH * g.KW, coutG = g.CoutPerGroup, size = g.Cout * k;
            bool pointwise = IsPointwise(g);
            float* cols = pointwise ? null : scratch.Floats(participant, KernelSlot.Columns, (nint)k * p);
            float* partial = scratch.Floats(participant, KernelSlot.WeightPartial, size);
            new Span<float>(partial, size).Clear();
            try
            {
                for (int item = begin; item < end; item++)
                {
                    int n = item / g.Groups, gi = item % g.Groups;
                    float* xg = x + ((nint)n * g.Cin + gi * g.CinPerGroup) * g.H * g.W;
                    float* dyg = dy + ((nint)n * g.Cout + gi * coutG) * p;
                    if (!pointwise) Im2Col(g, xg, cols);
                    Sgemm.Multiply(false, true, coutG, k, p, dyg, p, pointwise ? xg : cols, p, partial + (nint)gi * coutG * k, k, true, pool, level);
                }
            }
            finally
            {
                // Counted even when an item failed, so the reduction is left clean for the next call.
                reduction.Finish(participant, end - begin, g.N * g.Groups, scratch, dw, size, level);
            }
        }
    }
}

/// <summary>
/// Sums the per-participant weight-gradient partials of one backward-weight call into dW, in participant order,
/// once every work item is done: the participant that completes the last items does the sum and resets the state,
/// all inside the one pool operation (the pool serialises operations), so no other call sees it half-done.
/// </summary>
internal sealed unsafe class WeightGradientReduction(int participants)
{
    private readonly int[] _used = new int[participants];
    private int _done;

    /// <summary>Marks <paramref name="participant"/>'s partial as holding <paramref name="items"/> of the call's
    /// <paramref name="total"/> items; the participant that completes the total adds every partial into <paramref name="dw"/>;
    /// <paramref name="size"/> is the partials' length: dW's, or, with <paramref name="transposed"/>, the layout it describes.</summary>
    public void Finish(int participant, int items, int total, KernelScratch scratch, float* dw, nint size, SimdLevel level,
        TransposedPartial? transposed = null)
    {
        Volatile.Write(ref _used[participant], 1);
        if (Interlocked.Add(ref _done, items) != total) return;
        for (int q = 0; q < _used.Length; q++)
        {
            if (Volatile.Read(ref _used[q]) == 0) continue;
            float* partial = scratch.Floats(q, KernelSlot.WeightPartial, size);
            if (transposed is { } t) t.AddInto(dw, partial);
            else SimdLoops.Add(dw, partial, size, level);
            _used[q] = 0;
        }
        Volatile.Write(ref _done, 0);
    }
}

/// <summary>
/// The weights a forward job multiplies by: a conv's own, or, for a stride-1 backward-input, the weights of the
/// transposed conv, W'[gi·CinG + ci, co, kh, kw] = W[gi·CoutG + co, ci, KH−1−kh, KW−1−kw], which each participant
/// derives into its own scratch inside the pool operation (so concurrent callers never share the buffer).
/// </summary>
internal readonly unsafe struct ConvWeights
{
    private readonly float* _w;
    private readonly int _groups, _cinG, _coutG, _taps;
    private readonly bool _flip;

    private ConvWeights(float* w, bool flip, int groups, int cinG, int coutG, int taps)
    {
        _w = w; _flip = flip; _groups = groups; _cinG = cinG; _coutG = coutG; _taps = taps;
    }

    public static ConvWeights Plain(float* w) => new(w, false, 0, 0, 0, 0);

    /// <summary>The transposed-conv weights of <paramref name="g"/>'s weights <paramref name="w"/>.</summary>
    public static ConvWeights Flipped(in ConvGeometry g, float* w) => new(w, true, g.Groups, g.CinPerGroup, g.CoutPerGroup, g.KH * g.KW);

    /// <summary>The weights, laid out as the conv being run expects them.</summary>
    public float* Resolve(int participant, KernelScratch scratch)
    {
        if (!_flip) return _w;
        float* flipped = scratch.Floats(participant, KernelSlot.FlippedWeights, (nint)_groups * _coutG * _cinG * _taps);
        for (int gi = 0; gi < _groups; gi++)
        for (int ci = 0; ci < _cinG; ci++)
        for (int co = 0; co < _coutG; co++)
        {
            float* src = _w + (((nint)gi * _coutG + co) * _cinG + ci) * _taps;
            float* dst = flipped + (((nint)gi * _cinG + ci) * _coutG + co) * _taps;
            for (int t = 0; t < _taps; t++) dst[t] = src[_taps - 1 - t];
        }
        return flipped;
    }
}
