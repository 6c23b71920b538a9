namespace SharpNas.Data;

/// <summary>
/// An in-memory labelled image set: <see cref="Count"/> images of <see cref="Channels"/>×<see cref="Height"/>×<see cref="Width"/>
/// bytes (0..255), stored image after image, each image planar (channel after channel, each channel row-major),
/// i.e. the whole array is N×C×H×W; labels are class indices in [0, <see cref="ClassCount"/>).
/// The arrays are shared, not copied: treat them as read-only.
/// </summary>
public sealed class ImageDataset
{
    /// <summary>Creates a dataset over the given arrays (not copied) after checking their sizes and the labels.</summary>
    /// <exception cref="ArgumentException">A size does not match the shape, or a label is out of range.</exception>
    public ImageDataset(string name, int channels, int height, int width, IReadOnlyList<string> classNames, byte[] pixels, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        if (classNames.Count == 0) throw new ArgumentException($"dataset '{name}': needs at least one class, found none", nameof(classNames));
        long imageSize = (long)channels * height * width;
        if (imageSize * labels.Length != pixels.LongLength)
            throw new ArgumentException($"dataset '{name}': {pixels.LongLength:N0} pixel bytes, expected {imageSize * labels.Length:N0} ({labels.Length:N0} images × {channels}×{height}×{width})", nameof(pixels));
        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classNames.Count)
                throw new ArgumentException($"dataset '{name}': label {labels[i]} at index {i} is out of range, expected 0..{classNames.Count - 1}", nameof(labels));
        }
        Name = name;
        Channels = channels;
        Height = height;
        Width = width;
        ClassNames = classNames.ToArray();
        Pixels = pixels;
        Labels = labels;
    }

    /// <summary>A short name for messages and reports, e.g. <c>cifar10/train</c>.</summary>
    public string Name { get; }

    /// <summary>Number of images (N).</summary>
    public int Count => Labels.Length;

    /// <summary>Channels per image (C): 1 for grayscale, 3 for RGB.</summary>
    public int Channels { get; }

    /// <summary>Image height in pixels (H).</summary>
    public int Height { get; }

    /// <summary>Image width in pixels (W).</summary>
    public int Width { get; }

    /// <summary>Bytes per image, C×H×W.</summary>
    public int ImageSize => Channels * Height * Width;

    /// <summary>Number of classes; every label is below it.</summary>
    public int ClassCount => ClassNames.Count;

    /// <summary>Class names in label order.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>All pixels, N×C×H×W (planar per image). Shared: do not modify.</summary>
    public byte[] Pixels { get; }

    /// <summary>All labels, one per image. Shared: do not modify.</summary>
    public int[] Labels { get; }

    /// <summary>The pixels of image <paramref name="index"/> (C×H×W, planar).</summary>
    public ReadOnlySpan<byte> Image(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"dataset '{Name}' has {Count} images");
        return Pixels.AsSpan(index * ImageSize, ImageSize);
    }

    /// <summary>
    /// A new dataset holding the images at <paramref name="indices"/> (in that order; repeats allowed). It copies
    /// only the selected images, so it costs time and memory in proportion to the subset, not to this set.
    /// </summary>
    public ImageDataset Subset(ReadOnlySpan<int> indices, string? name = null)
    {
        int size = ImageSize;
        var pixels = new byte[(long)indices.Length * size];
        var labels = new int[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            int source = indices[i];
            if ((uint)source >= (uint)Count)
                throw new ArgumentOutOfRangeException(nameof(indices), source, $"subset of '{Name}': index {source} at position {i} is out of range, expected 0..{Count - 1}");
            Pixels.AsSpan(source * size, size).CopyTo(pixels.AsSpan(i * size, size));
            labels[i] = Labels[source];
        }
        return new ImageDataset(name ?? Name, Channels, Height, Width, ClassNames, pixels, labels);
    }

    /// <summary>How many images each class has (index = label).</summary>
    public int[] CountPerClass()
    {
        var counts = new int[ClassCount];
        foreach (int label in Labels) counts[label]++;
        return counts;
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name}: {Count:N0} images {Channels}×{Height}×{Width}, {ClassCount} classes";
}

/// <summary>A training set and a test set of the same kind of image.</summary>
public sealed record DatasetPair(ImageDataset Train, ImageDataset Test);
