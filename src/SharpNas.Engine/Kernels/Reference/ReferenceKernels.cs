namespace SharpNas.Engine.Kernels;

/// <summary>Plain loops, written to be obviously right: the oracle every faster kernel is tested against.
/// Accumulation is in float64 where a sum runs over many terms.</summary>
public sealed class ReferenceKernels : KernelSet
{
    /// <inheritdoc/>
    public override string Name => "reference";

    /// <inheritdoc/>
    public override void Conv2dForward(in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y)
    {
        int cinG = g.CinPerGroup, coutG = g.CoutPerGroup;
        for (int n = 0; n < g.N; n++)
        for (int co = 0; co < g.Cout; co++)
        {
            int group = co / coutG;
            for (int oh = 0; oh < g.OH; oh++)
            for (int ow = 0; ow < g.OW; ow++)
            {
                double sum = bias.IsEmpty ? 0 : bias[co];
                for (int cg = 0; cg < cinG; cg++)
                {
                    int ci = group * cinG + cg;
                    for (int kh = 0; kh < g.KH; kh++)
                    {
                        int ih = oh * g.StrideH - g.PadTop + kh * g.DilationH;
                        if ((uint)ih >= (uint)g.H) continue;
                        for (int kw = 0; kw < g.KW; kw++)
                        {
                            int iw = ow * g.StrideW - g.PadLeft + kw * g.DilationW;
                            if ((uint)iw >= (uint)g.W) continue;
                            sum += (double)x[((n * g.Cin + ci) * g.H + ih) * g.W + iw] * w[((co * cinG + cg) * g.KH + kh) * g.KW + kw];
                        }
                    }
                }
                y[((n * g.Cout + co) * g.OH + oh) * g.OW + ow] = (float)sum;
            }
        }
    }

    /// <inheritdoc/>
    public override void Conv2dBackwardInput(in ConvGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<float> w, Span<float> dx)
    {
        int cinG = g.CinPerGroup, coutG = g.CoutPerGroup;
        for (int n = 0; n < g.N; n++)
        for (int co = 0; co < g.Cout; co++)
        {
            int group = co / coutG;
            for (int oh = 0; oh < g.OH; oh++)
            for (int ow = 0; ow < g.OW; ow++)
            {
                float d = dy[((n * g.Cout + co) * g.OH + oh) * g.OW + ow];
                for (int cg = 0; cg < cinG; cg++)
                {
                    int ci = group * cinG + cg;
                    for (int kh = 0; kh < g.KH; kh++)
                    {
                        int ih = oh * g.StrideH - g.PadTop + kh * g.DilationH;
                        if ((uint)ih >= (uint)g.H) continue;
                        for (int kw = 0; kw < g.KW; kw++)
                        {
                            int iw = ow * g.StrideW - g.PadLeft + kw * g.DilationW;
                            if ((uint)iw >= (uint)g.W) continue;
                            dx[((n * g.Cin + ci) * g.H + ih) * g.W + iw] += d * w[((co * cinG + cg) * g.KH + kh) * g.KW + kw];
                        }
                    }
                }
            }
        }
    }

    /// <inheritdoc/>
    public override void Conv2dBackwardWeight(in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw)
    {
        int cinG = g.CinPerGroup, coutG = g.CoutPerGroup;
        for (int co = 0; co < g.Cout; co++)
        {
            int group = co / coutG;
            for (int cg = 0; cg < cinG; cg++)
            {
                int ci = group * cinG + cg;
                for (int kh = 0; kh < g.KH; kh++)
                for (int kw = 0; kw < g.KW; kw++)
                {
                    double sum = 0;
                    for (int n = 0; n < g.N; n++)
                    for (int oh = 0; oh < g.OH; oh++)
                    {
                        int ih = oh * g.StrideH - g.PadTop + kh * g.DilationH;
                        if ((uint)ih >= (uint)g.H) continue;
                        for (int ow = 0; ow < g.OW; ow++)
                        {
                            int iw = ow * g.StrideW - g.PadLeft + kw * g.DilationW;
                            if ((uint)iw >= (uint)g.W) continue;
                            sum += (double)x[((n * g.Cin + ci) * g.H + ih) * g.W + iw] * dy[((n * g.Cout + co) * g.OH + oh) * g.OW + ow];
                        }
                    }
                    dw[((co * cinG + cg) * g.KH + kh) * g.KW + kw] += (float)sum;
                }
            }
        }
    }

    /// <inheritdoc/>
    public override void MaxPool2dForward(in PoolGeometry g, ReadOnlySpan<float> x, Span<float> y)
    {
        for (int nc = 0; nc < g.N * g.C; nc++)
        for (int oh = 0; oh < g.OH; oh++)
        for (int ow = 0; ow < g.OW; ow++)
            y[(nc * g.OH + oh) * g.OW + ow] = x[ArgMax(g, x, nc, oh, ow)];
    }

    /// <inheritdoc/>
    public override void MaxPool2dBackward(in PoolGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        for (int nc = 0; nc < g.N * g.C; nc++)
        for (int oh = 0; oh < g.OH; oh++)
        for (int ow = 0; ow < g.OW; ow++)
            dx[ArgMax(g, x, nc, oh, ow)] += dy[(nc * g.OH + oh) * g.OW + ow];
    }

    /// <summary>Index in x of the first maximum of a window (padding never wins; NaN propagates like PyTorch).</summary>
    private static int ArgMax(in PoolGeometry g, ReadOnlySpan<float> x, int nc, int oh, int ow)
    {
        int best = -1;
        float bestValue = float.NegativeInfinity;
        for (int kh = 0; kh < g.KH; kh++)
        {
            int ih = oh * g.StrideH - g.PadTop + kh;
            if ((uint)ih >= (uint)g.H) continue;
            for (int kw = 0; kw < g.KW; kw++)
            {
                int iw = ow * g.StrideW - g.PadLeft + kw;
                if ((uint)iw >= (uint)g.W) continue;
                int i = (nc * g.H + ih) * g.W + iw;
                if (best < 0 || x[i] > bestValue || float.IsNaN(x[i])) { best = i; bestValue = x[i]; if (float.IsNaN(bestValue)) return best; }
            }
        }
        return best;
    }

    /// <inheritdoc/>
    public override void AvgPool2dForward(in PoolGeometry g, ReadOnlySpan<float> x, Span<float> y)
    {
        for (int nc = 0; nc < g.N * g.C; nc++)
        for (int oh = 0; oh < g.OH; oh++)
        for (int ow = 0; ow < g.OW; ow++)
        {
            double sum = 0;
            int count = 0;
            for (int kh = 0; kh < g.KH; kh++)
            {
                int ih = oh * g.StrideH - g.PadTop + kh;
                if ((uint)ih >= (uint)g.H) continue;
                for (int kw = 0; kw < g.KW; kw++)
                {
                    int iw = ow * g.StrideW - g.PadLeft + kw;
                    if ((uint)iw >= (uint)g.W) continue;
                    sum += x[(nc * g.H + ih) * g.W + iw];
                    count++;
                }
            }
            y[(nc * g.OH + oh) * g.OW + ow] = (float)(sum / AvgDivisor(g, oh, ow, count));
        }
    }

    /// <inheritdoc/>
    public override void AvgPool2dBackward(in PoolGeometry g, ReadOnlySpan<float> dy, Span<float> dx)
    {
        for (int nc = 0; nc < g.N * g.C; nc++)
        for (int oh = 0; oh < g.OH; oh++)
        for (int ow = 0; ow < g.OW; ow++)
        {
            int count = 0;
            for (int kh = 0; kh < g.KH; kh++)
            for (int kw = 0; kw < g.KW; kw++)
            {
                int ih = oh * g.StrideH - g.PadTop + kh, iw = ow * g.StrideW - g.PadLeft + kw;
                if ((uint)ih < (uint)g.H && (uint)iw < (uint)g.W) count++;
            }
            float d = (float)(dy[(nc * g.OH + oh) * g.OW + ow] / AvgDivisor(g, oh, ow, count));
            for (int kh = 0; kh < g.KH; kh++)
            {
                int ih = oh * g.StrideH - g.PadTop + kh;
                if ((uint)ih >= (uint)g.H) continue;
                for (int kw = 0; kw < g.KW; kw++)
                {
                    int iw = ow * g.StrideW - g.PadLeft + kw;
                    if ((uint)iw >= (uint)g.W) continue;
                    dx[(nc * g.H + ih) * g.W + iw] += d;
                }
            }
        }
    }

    /// <summary>PyTorch's divisor: with count_include_pad the window clipped to the padded input (so always KH·KW
    /// when the padding is at most half the kernel), else the number of real pixels.</summary>
    internal static double AvgDivisor(in PoolGeometry g, int oh, int ow, int realCount)
    {
        if (!g.CountIncludePad) return realCount;
        int h0 = oh * g.StrideH - g.PadTop, w0 = ow * g.StrideW - g.PadLeft;
        int h1 = Math.Min(h0 + g.KH, g.H + g.PadBottom), w1 = Math.Min(w0 + g.KW, g.W + g.PadRight);
        return (h1 - h0) * (w1 - w0);
    }

    /// <inheritdoc/>
    public override void BatchNormTrainForward(int n, int c, int hw, ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta,
        float eps, Span<float> y, Span<float> mean, Span<float> invStd)
    {
        long count = (long)n * hw;
        for (int ch = 0; ch < c; ch++)
        {
            double sum = 0;
            for (int i = 0; i < n; i++)
                for (int p = 0; p < hw; p++) sum += x[(i * c + ch) * hw + p];
            double m = sum / count, sq = 0;
            for (int i = 0; i < n; i++)
                for (int p = 0; p < hw; p++) { double d = x[(i * c + ch) * hw + p] - m; sq += d * d; }
            double inv = 1.0 / Math.Sqrt(sq / count + eps);   // biased variance normalises, as PyTorch does
            mean[ch] = (float)m;
            invStd[ch] = (float)inv;
            double gm = gamma.IsEmpty ? 1 : gamma[ch], bt = beta.IsEmpty ? 0 : beta[ch];
            for (int i = 0; i < n; i++)
                for (int p = 0; p < hw; p++)
                {
                    int k = (i * c + ch) * hw + p;
                    y[k] = (float)((x[k] - m) * inv * gm + bt);
                }
        }
    }

    /// <inheritdoc/>
    public override void BatchNormTrainBackward(int n, int c, int hw, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> mean, ReadOnlySpan<float> invStd, Span<float> dx, Span<float> dgamma, Span<float> dbeta)
    {
        long count = (long)n * hw;
        for (int ch = 0; ch < c; ch++)
        {
            double m = mean[ch], inv = invStd[ch], sumDy = 0, sumDyXhat = 0;
            for (int i = 0; i < n; i++)
                for (int p = 0; p < hw; p++)
                {
                    int k = (i * c + ch) * hw + p;
                    sumDy += dy[k];
                    sumDyXhat += dy[k] * (x[k] - m) * inv;
                }
            if (!dgamma.IsEmpty) dgamma[ch] += (float)sumDyXhat;
            if (!dbeta.IsEmpty) dbeta[ch] += (float)sumDy;
            if (dx.IsEmpty) continue;
            double gm = gamma.IsEmpty ? 1 : gamma[ch];
            // dx = γ·inv/M · (M·dy − Σdy − x̂·Σ(dy·x̂))
            for (int i = 0; i < n; i++)
                for (int p = 0; p < hw; p++)
                {
                    int k = (i * c + ch) * hw + p;
                    double xhat = (x[k] - m) * inv;
                    dx[k] += (float)(gm * inv * (dy[k] - sumDy / count - xhat * sumDyXhat / count));
                }
        }
    }

    /// <inheritdoc/>
    public override void Gemm(bool transA, bool transB, int m, int n, int k, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                    sum += (double)(transA ? a[p * lda + i] : a[i * lda + p]) * (transB ? b[j * ldb + p] : b[p * ldb + j]);
                c[i * ldc + j] = accumulate ? c[i * ldc + j] + (float)sum : (float)sum;
            }
    }
}
