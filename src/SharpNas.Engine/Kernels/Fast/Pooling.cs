// Max and average pooling over [N, C, H, W], one plane per work item, on the padded-plane layout of
// PlaneGeometry (padding −∞ for max, 0 for average). Max-pool backward recomputes each window's first maximum
// from x (the op keeps no argmax), exactly as the reference does.
using SharpNas.Engine.Parallel;

namespace SharpNas.Engine.Kernels.Fast;

internal static unsafe class Pooling
{
    public static void MaxForward(in PoolGeometry g, float* x, float* y, WorkerPool pool, KernelScratch scratch, SimdLevel level) =>
        pool.Run(g.N * g.C, new ForwardJob(g, x, y, isMax: true, scratch, level));

    public static void AvgForward(in PoolGeometry g, float* x, float* y, WorkerPool pool, KernelScratch scratch, SimdLevel level) =>
        pool.Run(g.N * g.C, new ForwardJob(g, x, y, isMax: false, scratch, level));

    public static void MaxBackward(in PoolGeometry g, float* x, float* dy, float* dx, WorkerPool pool, KernelScratch scratch, SimdLevel level) =>
        pool.Run(g.N * g.C, new MaxBackwardJob(g, x, dy, dx, scratch, level));

    public static void AvgBackward(in PoolGeometry g, float* dy, float* dx, WorkerPool pool, KernelScratch scratch, SimdLevel level) =>
        pool.Run(g.N * g.C, new AvgBackwardJob(g, dy, dx, scratch, level));

    /// <summary>1/divisor of every output position, PyTorch's rule (see <see cref="ReferenceKernels.AvgDivisor"/>).</summary>
    private static void InverseDivisors(in PoolGeometry g, float* inv)
    {
        for (int oh = 0; oh < g.OH; oh++)
        {
            int h0 = oh * g.StrideH - g.PadTop;
            int rows = Math.Min(h0 + g.KH, g.H) - Math.Max(h0, 0);
            for (int ow = 0; ow < g.OW; ow++)
            {
                int w0 = ow * g.StrideW - g.PadLeft;
                int cols = Math.Min(w0 + g.KW, g.W) - Math.Max(w0, 0);
                inv[oh * g.OW + ow] = (float)(1.0 / ReferenceKernels.AvgDivisor(g, oh, ow, rows * cols));
            }
        }
    }

    private readonly struct ForwardJob(PoolGeometry g, float* x, float* y, bool isMax, KernelScratch scratch, SimdLevel level) : IParallelJob
    {
        public void Execute(int begin, int end, int participant)
        {
            var pg = PlaneGeometry.Of(g);
            int taps = pg.Taps, inPlane = g.H * g.W, outPlane = g.OH * g.OW;
            float* xp = scratch.Floats(participant, KernelSlot.Padded, pg.PaddedSize);
            float* run = scratch.Floats(participant, KernelSlot.Run, pg.RunLength);
            float* inv = null;
            if (!isMax)
            {
                inv = scratch.Floats(participant, KernelSlot.InverseDivisors, outPlane);
                InverseDivisors(g, inv);
            }
            int* offsets = stackalloc int[taps];
            float* ones = stackalloc float[taps];
            pg.TapOffsets(offsets);
            new Span<float>(ones, taps).Fill(1f);
            float fill = isMax ? float.NegativeInfinity : 0f;
            for (int item = begin; item < end; item++)
            {
                pg.Pad(x + (nint)item * inPlane, xp, fill);
                float* yo = y + (nint)item * outPlane;
                if (isMax) SimdLoops.MultiTap<MaxTap>(run, xp, pg.RunLength, offsets, ones, taps, fill, level);
                else SimdLoops.MultiTap<MultiplyAddTap>(run, xp, pg.RunLength, offsets, ones, taps, 0f, level);
                pg.FromRun(run, yo);
                if (!isMax)
                    for (int i = 0; i < outPlane; i++) yo[i] *= inv[i];
            }
        }
    }

    private readonly struct AvgBackwardJob(PoolGeometry g, float* dy, float* dx, KernelScratch scratch, SimdLevel level) : IParallelJob
    {
        public void Execute(int begin, int end, int participant)
        {
            var pg = PlaneGeometry.Of(g);
            int taps = pg.Taps, inPlane = g.H * g.W, outPlane = g.OH * g.OW;
            float* dxp = scratch.Floats(participant, KernelSlot.Padded, pg.PaddedSize);
            float* inv = scratch.Floats(participant, KernelSlot.InverseDivisors, outPlane);
            InverseDivisors(g, inv);
            int* offsets = stackalloc int[taps];
            pg.TapOffsets(offsets);
            // Gather, as DepthwiseConv's backward-input: padded value q = Σ_t run[q − offset[t]], the run (dy/divisor)
            // sitting at `reach` in a zero-margined buffer.
            int reach = PlaneGeometry.Reach(offsets, taps);
            float* runs = scratch.Floats(participant, KernelSlot.Run, pg.PaddedSize + reach);
            new Span<float>(runs, pg.PaddedSize + reach).Clear();
            int* gather = stackalloc int[taps];
            float* ones = stackalloc float[taps];
            for (int t = 0; t < taps; t++) { gather[t] = reach - offsets[t]; ones[t] = 1f; }
            int* order = stackalloc int[taps], start = stackalloc int[pg.Phases + 1];
            pg.GroupByPhase(taps, order, start);
            for (int item = begin; item < end; item++)
            {
                pg.ToRun(dy + (nint)item * outPlane, runs + reach, inv);
                pg.GatherAddInterior(dxp, runs, gather, ones, taps, order, start, dx + (nint)item * inPlane, level);
            }
        }
    }

    /// <summary>
    /// Per plane: the window maxima again (as the forward), then one <see cref="SimdLoops.FirstMaximumAdd"/> per tap in
    /// window order routes each output's gradient to its first maximum in a padded gradient plane. A plane whose
    /// maxima include −∞ could match the −∞ padding before a real element, so it takes the scalar scan instead.
    /// </summary>
    private readonly struct MaxBackwardJob(PoolGeometry g, float* x, float* dy, float* dx, KernelScratch scratch, SimdLevel level) : IParallelJob
    {
        public void Execute(int begin, int end, int participant)
        {
            var pg = PlaneGeometry.Of(g);
            int taps = pg.Taps, inPlane = g.H * g.W, outPlane = g.OH * g.OW, length = pg.RunLength;
            float* xp = scratch.Floats(participant, KernelSlot.Padded, pg.PaddedSize);
            float* dxp = scratch.Floats(participant, KernelSlot.PaddedGradient, pg.PaddedSize);
            float* max = scratch.Floats(participant, KernelSlot.Run, length);
            float* runGradient = scratch.Floats(participant, KernelSlot.RunGradient, length);
            float* claimed = scratch.Floats(participant, KernelSlot.Claimed, length);
            int* offsets = stackalloc int[taps];
            float* ones = stackalloc float[taps];
            pg.TapOffsets(offsets);
            new Span<float>(ones, taps).Fill(1f);
            for (int item = begin; item < end; item++)
            {
                float* xs = x + (nint)item * inPlane, dxs = dx + (nint)item * inPlane, d = dy + (nint)item * outPlane;
                pg.Pad(xs, xp, float.NegativeInfinity);
                SimdLoops.MultiTap<MaxTap>(max, xp, length, offsets, ones, taps, float.NegativeInfinity, level);
                if (AnyNegativeInfinity(max, pg.RS))
                {
                    ScanPlane(xs, dxs, d);
                    continue;
                }
                new Span<float>(dxp, pg.PaddedSize).Clear();
                pg.ToRun(d, runGradient, null);
                new Span<float>(claimed, length).Clear();
                for (int t = 0; t < taps; t++)
                    SimdLoops.FirstMaximumAdd(dxp + offsets[t], xp + offsets[t], max, runGradient, claimed, length, level);
                pg.AddInterior(dxp, dxs, level);
            }
        }

        /// <summary>Whether any real output (not a column past OW of a run row) has a −∞ maximum.</summary>
        private bool AnyNegativeInfinity(float* max, int rowStride)
        {
            for (int oh = 0; oh < g.OH; oh++)
                if (new ReadOnlySpan<float>(max + (nint)oh * rowStride, g.OW).Contains(float.NegativeInfinity)) return true;
            return false;
        }

        /// <summary>The scalar form: each window's first maximum by a scan of x.</summary>
        private void ScanPlane(float* xs, float* dxs, float* d)
        {
            for (int oh = 0; oh < g.OH; oh++)
            {
                int h0 = oh * g.StrideH - g.PadTop, h1 = Math.Min(h0 + g.KH, g.H);
                h0 = Math.Max(h0, 0);
                for (int ow = 0; ow < g.OW; ow++)
                {
                    int w0 = ow * g.StrideW - g.PadLeft, w1 = Math.Min(w0 + g.KW, g.W);
                    w0 = Math.Max(w0, 0);
                    // First maximum in row-major window order; a NaN wins at once (as the reference).
                    int best = h0 * g.W + w0;
                    float bestValue = xs[best];
                    for (int ih = h0; ih < h1 && !float.IsNaN(bestValue); ih++)
                        for (int iw = w0; iw < w1; iw++)
                        {
                            float v = xs[ih * g.W + iw];
                            if (v > bestValue || float.IsNaN(v)) { best = ih * g.W + iw; bestValue = v; if (float.IsNaN(v)) break; }
                        }
                    dxs[best] += d[oh * g.OW + ow];
                }
            }
        }
    }
}
