// Direct depthwise convolution (groups == Cin, Cout = multiplier·Cin): output channel co reads input channel
// co / multiplier. Each input plane is padded once (PlaneGeometry) and every window tap becomes one contiguous
// vector loop, so the kernels run at vector speed even on 8×8 planes where im2col + GEMM would be mostly overhead.
//   x [N, Cin, H, W]   w [Cout, 1, KH, KW]   y, dy [N, Cout, OH, OW]
using SharpNas.Engine.Parallel;

namespace SharpNas.Engine.Kernels.Fast;

internal static unsafe class DepthwiseConv
{
    /// <summary>y = depthwise conv(x, w) + bias (bias may be null). Parallel over (sample, input channel) planes.</summary>
    public static void Forward(in ConvGeometry g, float* x, float* w, float* bias, float* y, WorkerPool pool, KernelScratch scratch, SimdLevel level) =>
        pool.Run(g.N * g.Cin, new ForwardJob(g, x, w, bias, y, scratch, level));

    /// <summary>dx += ∂/∂x, or dx = ∂/∂x when not <paramref name="accumulate"/>. Parallel over (sample, input channel)
    /// planes: each writes only its own dx plane.</summary>
    public static void BackwardInput(in ConvGeometry g, float* dy, float* w, float* dx, WorkerPool pool, KernelScratch scratch, SimdLevel level,
        bool accumulate = true) =>
        pool.Run(g.N * g.Cin, new BackwardInputJob(g, dy, w, dx, scratch, level, accumulate));

    /// <summary>dw += ∂/∂w. Parallel over input channels; each sums its taps over the batch in float64, in sample
    /// order, so the result does not depend on the thread count.</summary>
    public static void BackwardWeight(in ConvGeometry g, float* x, float* dy, float* dw, WorkerPool pool, KernelScratch scratch, SimdLevel level) =>
        pool.Run(g.Cin, new BackwardWeightJob(g, x, dy, dw, scratch, level));

    private readonly struct ForwardJob(ConvGeometry g, float* x, float* w, float* bias, float* y, KernelScratch scratch, SimdLevel level) : IParallelJob
    {
        public void Execute(int begin, int end, int participant)
        {
            var pg = PlaneGeometry.Of(g);
            int taps = pg.Taps, mult = g.Cout / g.Cin, inPlane = g.H * g.W, outPlane = g.OH * g.OW;
            float* xp = scratch.Floats(participant, KernelSlot.Padded, pg.PaddedSize);
            float* run = scratch.Floats(participant, KernelSlot.Run, pg.RunLength);
            int* offsets = stackalloc int[taps];
            pg.TapOffsets(offsets);
            for (int item = begin; item < end; item++)
            {
                int n = item / g.Cin, ci = item % g.Cin;
                pg.Pad(x + (nint)item * inPlane, xp, 0f);
                for (int j = 0; j < mult; j++)
                {
                    int co = ci * mult + j;
                    float b = bias is null ? 0f : bias[co];
                    SimdLoops.MultiTap<MultiplyAddTap>(run, xp, pg.RunLength, offsets, w + (nint)co * taps, taps, b, level);
                    pg.FromRun(run, y + ((nint)n * g.Cout + co) * outPlane);
                }
            }
        }
    }

    private readonly struct BackwardInputJob(ConvGeometry g, float* dy, float* w, float* dx, KernelScratch scratch, SimdLevel level,
        bool accumulate) : IParallelJob
    {
        public void Execute(int begin, int end, int participant)
        {
            var pg = PlaneGeometry.Of(g);
            int taps = pg.Taps, mult = g.Cout / g.Cin, inPlane = g.H * g.W, outPlane = g.OH * g.OW;
            // Instead of scattering every tap of the gradient run into the padded planes (a load, a load and a store
            // per FMA), gather: padded value q = Σ_t w[t]·run[q − offset[t]] (PlaneGeometry.GatherAddInterior). Each
            // multiplier's run sits at `span` floats from the previous one in a zero-margined buffer, so all
            // multipliers' taps are one tap list.
            int* offsets = stackalloc int[taps];
            pg.TapOffsets(offsets);
            float* dxp = scratch.Floats(participant, KernelSlot.Padded, pg.PaddedSize);
            int reach = PlaneGeometry.Reach(offsets, taps);
            int span = pg.PaddedSize + reach;
            float* runs = scratch.Floats(participant, KernelSlot.Run, (nint)mult * span);
            new Span<float>(runs, mult * span).Clear();   // the margins stay zero: ToRun writes only [reach, reach + RunLength)
            int* gather = stackalloc int[mult * taps];
            for (int j = 0; j < mult; j++)
                for (int t = 0; t < taps; t++) gather[j * taps + t] = j * span + reach - offsets[t];
            int* order = stackalloc int[mult * taps], start = stackalloc int[pg.Phases + 1];
            pg.GroupByPhase(mult * taps, order, start);
            for (int item = begin; item < end; item++)
            {
                int n = item / g.Cin, ci = item % g.Cin;
                for (int j = 0; j < mult; j++)
                    pg.ToRun(dy + ((nint)n * g.Cout + ci * mult + j) * outPlane, runs + j * span + reach, null);
                pg.GatherAddInterior(dxp, runs, gather, w + (nint)ci * mult * taps, mult * taps, order, start, dx + (nint)item * inPlane, level,
                    store: !accumulate);
            }
        }
    }

    private readonly struct BackwardWeightJob(ConvGeometry g, float* x, float* dy, float* dw, KernelScratch scratch, SimdLevel level) : IParallelJob
    {
        public void Execute(int begin, int end, int participant)
        {
            var pg = PlaneGeometry.Of(g);
            int taps = pg.Taps, mult = g.Cout / g.Cin, inPlane = g.H * g.W, outPlane = g.OH * g.OW;
            // The gradient run padded with zeros to whole vectors (SimdLoops.MultiDot reads whole vectors); the padded
            // input gets a vector of zero slack past its end for the same reason.
            int runLength = pg.RunLength, runStride = (runLength + 7) & ~7;
            float* xp = scratch.Floats(participant, KernelSlot.Padded, pg.PaddedSize + 8);
            float* run = scratch.Floats(participant, KernelSlot.Run, runStride);
            double* acc = scratch.Doubles(participant, KernelSlot.Accumulators, (nint)mult * taps);
            new Span<float>(xp + pg.PaddedSize, 8).Clear();
            new Span<float>(run + runLength, runStride - runLength).Clear();
            int* offsets = stackalloc int[taps];
            pg.TapOffsets(offsets);
            for (int ci = begin; ci < end; ci++)
            {
                new Span<double>(acc, mult * taps).Clear();
                for (int n = 0; n < g.N; n++)
                {
                    pg.Pad(x + ((nint)n * g.Cin + ci) * inPlane, xp, 0f);
                    for (int j = 0; j < mult; j++)
                    {
                        pg.ToRun(dy + ((nint)n * g.Cout + ci * mult + j) * outPlane, run, null);
                        SimdLoops.MultiDot(run, runStride, xp, 0, 1, runLength, offsets, taps, acc + j * taps, level);
                    }
                }
                for (int j = 0; j < mult; j++)
                {
                    float* dwc = dw + (nint)(ci * mult + j) * taps;
                    for (int t = 0; t < taps; t++) dwc[t] += (float)acc[j * taps + t];
                }
            }
        }
    }
}
