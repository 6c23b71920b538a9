// Training-mode batch norm over [N, C, HW], one channel per work item (each channel's statistics are summed in
// sample order in float64 from float32 vector partial sums, so results do not depend on the thread count).
// Saved for backward: mean[c] and invStd[c] = 1/√(biased var + eps).
using SharpNas.Engine.Parallel;

namespace SharpNas.Engine.Kernels.Fast;

internal static unsafe class BatchNormKernels
{
    public static void TrainForward(int n, int c, int hw, float* x, float* gamma, float* beta, float eps, float* y, float* mean, float* invStd,
        WorkerPool pool, SimdLevel level) =>
        pool.Run(c, new ForwardJob(n, c, hw, x, gamma, beta, eps, y, mean, invStd, level));

    /// <summary>dx += (or, when not <paramref name="accumulate"/>, =) the input gradient; dγ and dβ add.</summary>
    public static void TrainBackward(int n, int c, int hw, float* x, float* dy, float* gamma, float* mean, float* invStd,
        float* dx, float* dgamma, float* dbeta, bool accumulate, WorkerPool pool, SimdLevel level) =>
        pool.Run(c, new BackwardJob(n, c, hw, x, dy, gamma, mean, invStd, dx, dgamma, dbeta, accumulate, level));

    private readonly struct ForwardJob(int n, int c, int hw, float* x, float* gamma, float* beta, float eps, float* y, float* mean, float* invStd,
        SimdLevel level) : IParallelJob
    {
        public void Execute(int begin, int end, int participant)
        {
            double count = (double)n * hw;
            for (int ch = begin; ch < end; ch++)
            {
                // One pass over the data for the statistics: sums about a shift c near the mean (the mean of the first
                // plane's first values), per plane in float, over planes in float64; then Σ(x−m)² = Σ(x−c)² − (Σ(x−c))²/M
                // does not cancel, and no second pass is needed.
                int head = Math.Min(hw, 16);
                float about = SimdLoops.Sum(x + (nint)ch * hw, head, level) / head;
                double s1Total = 0, s2Total = 0;
                for (int i = 0; i < n; i++)
                {
                    var (s1, s2) = SimdLoops.ShiftedSums(x + ((nint)i * c + ch) * hw, about, hw, level);
                    s1Total += s1;
                    s2Total += s2;
                }
                double m = about + s1Total / count, sq = Math.Max(0, s2Total - s1Total * s1Total / count);
                double inv = 1.0 / Math.Sqrt(sq / count + eps);   // biased variance normalises, as PyTorch does
                mean[ch] = (float)m;
                invStd[ch] = (float)inv;
                double scale = (gamma is null ? 1.0 : gamma[ch]) * inv;
                double shift = (beta is null ? 0.0 : beta[ch]) - m * scale;
                for (int i = 0; i < n; i++)
                {
                    nint o = ((nint)i * c + ch) * hw;
                    SimdLoops.ScaleShift(y + o, x + o, (float)scale, (float)shift, hw, level);
                }
            }
        }
    }

    private readonly struct BackwardJob(int n, int c, int hw, float* x, float* dy, float* gamma, float* mean, float* invStd,
        float* dx, float* dgamma, float* dbeta, bool accumulate, SimdLevel level) : IParallelJob
    {
        public void Execute(int begin, int end, int participant)
        {
            double count = (double)n * hw;
            for (int ch = begin; ch < end; ch++)
            {
                float m = mean[ch];
                double inv = invStd[ch], sumDy = 0, sumDyXc = 0;
                for (int i = 0; i < n; i++)
                {
                    nint o = ((nint)i * c + ch) * hw;
                    var (s, d) = SimdLoops.SumAndDotCentered(dy + o, x + o, m, hw, level);
                    sumDy += s;
                    sumDyXc += d;
                }
                double sumDyXhat = sumDyXc * inv;
                if (dgamma is not null) dgamma[ch] += (float)sumDyXhat;
                if (dbeta is not null) dbeta[ch] += (float)sumDy;
                if (dx is null) continue;
                // dx = γ·inv/M · (M·dy − Σdy − x̂·Σ(dy·x̂)) = k1·dy + k2·(x − mean) + k3
                double gm = gamma is null ? 1.0 : gamma[ch];
                double k1 = gm * inv, k2 = -gm * inv * inv * sumDyXhat / count, k3 = -gm * inv * sumDy / count;
                for (int i = 0; i < n; i++)
                {
                    nint o = ((nint)i * c + ch) * hw;
                    SimdLoops.BatchNormInputGradient(dx + o, dy + o, x + o, m, (float)k1, (float)k2, (float)k3, hw, accumulate, level);
                }
            }
        }
    }
}
