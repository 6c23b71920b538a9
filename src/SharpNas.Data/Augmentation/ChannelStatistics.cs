namespace SharpNas.Data;

/// <summary>
/// Per-channel mean and standard deviation of pixel values scaled to [0, 1], used to normalise images as
/// <c>(pixel / 255 − mean[c]) / std[c]</c>.
/// </summary>
public sealed record ChannelStatistics
{
    /// <summary>Creates statistics from per-channel means and standard deviations (same length, std &gt; 0).</summary>
    public ChannelStatistics(IReadOnlyList<float> mean, IReadOnlyList<float> std)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (mean.Count == 0 || mean.Count != std.Count)
            throw new ArgumentException($"channel statistics: {mean.Count} means and {std.Count} standard deviations, expected the same positive number");
        for (int c = 0; c < std.Count; c++)
        {
            if (!(std[c] > 0) || !float.IsFinite(std[c]) || !float.IsFinite(mean[c]))
                throw new ArgumentException($"channel statistics: channel {c} has mean {mean[c]} and std {std[c]}, expected finite values and std > 0");
        }
        Mean = mean.ToArray();
        Std = std.ToArray();
    }

    /// <summary>Mean per channel, in [0, 1] units.</summary>
    public IReadOnlyList<float> Mean { get; }

    /// <summary>Standard deviation per channel, in [0, 1] units.</summary>
    public IReadOnlyList<float> Std { get; }

    /// <summary>Number of channels.</summary>
    public int Channels => Mean.Count;

    /// <summary>Mean 0, std 1 for every channel: only the scaling to [0, 1].</summary>
    public static ChannelStatistics Identity(int channels) => new(new float[channels], Enumerable.Repeat(1f, channels).ToArray());

    /// <summary>
    /// The exact per-channel mean and (population) standard deviation of a dataset's pixels in [0, 1]. A channel
    /// with zero variance gets std 1 so that normalising stays finite.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static ChannelStatistics Compute(ImageDataset dataset)
    {
        int c = dataset.Channels, plane = dataset.Height * dataset.Width;
        // Histograms per channel (exact). Four interleaved copies, so that runs of equal neighbouring pixels do not
        // serialise on one counter.
        var histogram = new long[c * 1024];
        byte[] pixels = dataset.Pixels;
        for (int i = 0; i < dataset.Count; i++)
        {
            for (int ch = 0; ch < c; ch++)
            {
                Span<long> bins = histogram.AsSpan(ch * 1024, 1024);
                ReadOnlySpan<byte> values = pixels.AsSpan((i * c + ch) * plane, plane);
                int k = 0;
                for (; k + 4 <= values.Length; k += 4)
                {
                    bins[values[k]]++;
                    bins[256 + values[k + 1]]++;
                    bins[512 + values[k + 2]]++;
                    bins[768 + values[k + 3]]++;
                }
                for (; k < values.Length; k++) bins[values[k]]++;
            }
        }
        var sum = new long[c];
        var squares = new long[c];
        for (int ch = 0; ch < c; ch++)
        {
            for (int v = 0; v < 1024; v++)
            {
                long n = histogram[ch * 1024 + v], value = v & 255;
                sum[ch] += n * value;
                squares[ch] += n * value * value;
            }
        }
        double count = (double)dataset.Count * plane;
        var mean = new float[c];
        var std = new float[c];
        for (int ch = 0; ch < c; ch++)
        {
            double m = sum[ch] / count;
            double variance = Math.Max(0, squares[ch] / count - m * m);
            mean[ch] = (float)(m / 255);
            std[ch] = variance > 0 ? (float)(Math.Sqrt(variance) / 255) : 1f;
        }
        return new ChannelStatistics(mean, std);
    }

    /// <inheritdoc/>
    public override string ToString() =>
        "mean (" + string.Join(", ", Mean.Select(m => m.ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture))) +
        "), std (" + string.Join(", ", Std.Select(s => s.ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture))) + ")";
}
