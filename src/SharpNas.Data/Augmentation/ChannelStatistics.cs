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
    public static ChannelStatistics Compute(ImageDataset dataset)
    {
        int c = dataset.Channels, plane = dataset.Height * dataset.Width;
        var sum = new long[c];
        var squares = new long[c];
        for (int i = 0; i < dataset.Count; i++)
        {
            ReadOnlySpan<byte> image = dataset.Image(i);
            for (int ch = 0; ch < c; ch++)
            {
                long s = 0, q = 0;
                foreach (byte b in image.Slice(ch * plane, plane)) { s += b; q += b * b; }
                sum[ch] += s;
                squares[ch] += q;
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
