using SharpNas.Engine;

namespace SharpNas.Data;

/// <summary>
/// Turns one image of bytes (C×H×W) into normalised floats (C×H×W), with or without the random augmentation of
/// <see cref="AugmentationOptions"/>. Normalisation is a 256-entry lookup table per channel; nothing is allocated
/// per image. Random draws per image, in order: crop shift y, crop shift x (when padding &gt; 0), flip (when
/// enabled), cutout centre y, x (when cutout &gt; 0).
/// </summary>
public sealed class ImageAugmenter
{
    private readonly float[] _table;
    private readonly int _channels, _height, _width;

    /// <summary>Creates an augmenter for images of the given shape.</summary>
    public ImageAugmenter(int channels, int height, int width, AugmentationOptions options, ChannelStatistics normalization)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(normalization);
        if (normalization.Channels != channels)
            throw new ArgumentException($"normalisation for {normalization.Channels} channels, the images have {channels}", nameof(normalization));
        (_channels, _height, _width) = (channels, height, width);
        Options = options;
        Normalization = normalization;
        _table = new float[channels * 256];
        for (int c = 0; c < channels; c++)
        {
            for (int v = 0; v < 256; v++) _table[c * 256 + v] = (v / 255f - normalization.Mean[c]) / normalization.Std[c];
        }
    }

    /// <summary>The augmentation applied by <see cref="Augment"/>.</summary>
    public AugmentationOptions Options { get; }

    /// <summary>The normalisation applied by both methods.</summary>
    public ChannelStatistics Normalization { get; }

    /// <summary>Normalises without augmentation (evaluation).</summary>
    public void Normalize(ReadOnlySpan<byte> image, Span<float> destination)
    {
        Check(image, destination);
        int plane = _height * _width;
        for (int c = 0; c < _channels; c++)
        {
            ReadOnlySpan<float> table = _table.AsSpan(c * 256, 256);
            ReadOnlySpan<byte> src = image.Slice(c * plane, plane);
            Span<float> dst = destination.Slice(c * plane, plane);
            for (int i = 0; i < src.Length; i++) dst[i] = table[src[i]];
        }
    }

    /// <summary>Augments with draws from <paramref name="random"/>, then normalises (training).</summary>
    public void Augment(ReadOnlySpan<byte> image, Span<float> destination, SeededRandom random)
    {
        Check(image, destination);
        int p = Options.Padding;
        int dy = p > 0 ? random.NextInt(2 * p + 1) - p : 0;
        int dx = p > 0 ? random.NextInt(2 * p + 1) - p : 0;
        bool flip = Options.HorizontalFlip && (random.NextUInt64() >> 63) != 0;
        int cutY = 0, cutX = 0;
        if (Options.CutoutSize > 0) { cutY = random.NextInt(_height); cutX = random.NextInt(_width); }
        Apply(image, destination, dy, dx, flip);
        if (Options.CutoutSize > 0) Cutout(destination, cutY, cutX, Options.CutoutSize);
    }

    /// <summary>
    /// The deterministic core: output pixel (y, x) = source pixel (y + <paramref name="dy"/>, x' + <paramref name="dx"/>) with
    /// x' = W−1−x when <paramref name="flip"/> else x; positions outside the source read 0 (black), then normalise.
    /// </summary>
    internal void Apply(ReadOnlySpan<byte> image, Span<float> destination, int dy, int dx, bool flip)
    {
        int h = _height, w = _width, plane = h * w;
        for (int c = 0; c < _channels; c++)
        {
            ReadOnlySpan<float> table = _table.AsSpan(c * 256, 256);
            float pad = table[0];
            for (int y = 0; y < h; y++)
            {
                Span<float> dst = destination.Slice(c * plane + y * w, w);
                int sy = y + dy;
                if ((uint)sy >= (uint)h) { dst.Fill(pad); continue; }
                ReadOnlySpan<byte> src = image.Slice(c * plane + sy * w, w);
                // Valid x: 0 ≤ sx < w, with sx = x + dx (no flip) or w−1−x+dx (flip).
                if (!flip)
                {
                    int lo = Math.Max(0, -dx), hi = Math.Min(w, w - dx);
                    dst[..lo].Fill(pad);
                    for (int x = lo; x < hi; x++) dst[x] = table[src[x + dx]];
                    dst[hi..].Fill(pad);
                }
                else
                {
                    int lo = Math.Max(0, dx), hi = Math.Min(w, w + dx);
                    dst[..lo].Fill(pad);
                    for (int x = lo; x < hi; x++) dst[x] = table[src[w - 1 - x + dx]];
                    dst[hi..].Fill(pad);
                }
            }
        }
    }

    /// <summary>Zeroes an <paramref name="size"/>-sided square with top-left (cy − size/2, cx − size/2), clipped, in every channel.</summary>
    internal void Cutout(Span<float> destination, int cy, int cx, int size)
    {
        int y0 = Math.Max(0, cy - size / 2), y1 = Math.Min(_height, cy - size / 2 + size);
        int x0 = Math.Max(0, cx - size / 2), x1 = Math.Min(_width, cx - size / 2 + size);
        if (x1 <= x0) return;
        int plane = _height * _width;
        for (int c = 0; c < _channels; c++)
        {
            for (int y = y0; y < y1; y++) destination.Slice(c * plane + y * _width + x0, x1 - x0).Clear();
        }
    }

    private void Check(ReadOnlySpan<byte> image, Span<float> destination)
    {
        int size = _channels * _height * _width;
        if (image.Length != size || destination.Length != size)
            throw new ArgumentException($"augmenter for {_channels}×{_height}×{_width} images: source has {image.Length} values and destination {destination.Length}, expected {size} each");
    }
}
