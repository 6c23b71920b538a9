namespace SharpNas.Data;

/// <summary>
/// One batch from a <see cref="BatchLoader"/>: the first <see cref="Count"/> images of <see cref="Images"/>
/// (NCHW floats, normalised) and their <see cref="Labels"/>. The arrays are the loader's reusable buffers, sized
/// for a full batch: a batch is valid only until the enumerator's next <c>MoveNext</c>; copy what you keep.
/// </summary>
public sealed class Batch
{
    internal Batch(int capacity, int channels, int height, int width)
    {
        (Capacity, Channels, Height, Width) = (capacity, channels, height, width);
        Images = new float[(long)capacity * channels * height * width];
        Labels = new long[capacity];
        Indices = new int[capacity];
    }

    /// <summary>Images, <see cref="Capacity"/>×C×H×W; only the first <see cref="Count"/>×C×H×W values are this batch's.</summary>
    public float[] Images { get; }

    /// <summary>Class labels; only the first <see cref="Count"/> are this batch's.</summary>
    public long[] Labels { get; }

    /// <summary>Positions in the loader's dataset of the images; only the first <see cref="Count"/> are this batch's.</summary>
    public int[] Indices { get; }

    /// <summary>Number of images in this batch (equal to <see cref="Capacity"/> except perhaps for the last batch).</summary>
    public int Count { get; internal set; }

    /// <summary>Position of this batch in its epoch, from 0.</summary>
    public int Number { get; internal set; }

    /// <summary>The batch size the buffers are made for.</summary>
    public int Capacity { get; }

    /// <summary>Channels per image (C).</summary>
    public int Channels { get; }

    /// <summary>Image height (H).</summary>
    public int Height { get; }

    /// <summary>Image width (W).</summary>
    public int Width { get; }

    /// <summary>This batch's images, Count×C×H×W.</summary>
    public Span<float> ImageSpan => Images.AsSpan(0, Count * Channels * Height * Width);

    /// <summary>This batch's labels.</summary>
    public Span<long> LabelSpan => Labels.AsSpan(0, Count);
}
