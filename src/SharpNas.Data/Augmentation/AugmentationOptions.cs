namespace SharpNas.Data;

/// <summary>
/// Training-time augmentation and normalisation, applied per image in this order: pad by <see cref="Padding"/>
/// black (0) pixels on every side and crop a random H×W window (i.e. a random shift of up to ±P pixels);
/// mirror left–right with probability ½ when <see cref="HorizontalFlip"/>; normalise per channel with
/// <see cref="Normalization"/>; then zero a <see cref="CutoutSize"/>-sided square (after normalisation, so the
/// square holds the mean) centred at a uniformly random pixel and clipped at the borders. Evaluation only normalises.
/// </summary>
public sealed record AugmentationOptions
{
    /// <summary>Zero padding P for the random crop; 0 = no crop.</summary>
    public int Padding { get; init; }

    /// <summary>Random left–right mirroring (p = ½).</summary>
    public bool HorizontalFlip { get; init; }

    /// <summary>Side L of the cutout square; 0 = off.</summary>
    public int CutoutSize { get; init; }

    /// <summary>Per-channel normalisation; null = computed from the dataset the training loader is given
    /// (pass the training loader's statistics to evaluation loaders).</summary>
    public ChannelStatistics? Normalization { get; init; }

    /// <summary>No augmentation; statistics computed from the training set.</summary>
    public static AugmentationOptions None { get; } = new();

    /// <summary>The usual CIFAR recipe: pad 4 + random 32×32 crop, horizontal flip, no cutout.</summary>
    public static AugmentationOptions Cifar { get; } = new() { Padding = 4, HorizontalFlip = true };

    /// <summary>For digit-like / grayscale sets (MNIST, Fashion-MNIST): pad 2 + random crop, no flip, no cutout.</summary>
    public static AugmentationOptions Grayscale { get; } = new() { Padding = 2 };

    /// <summary>The default for a dataset: <see cref="Cifar"/> for colour images (3 or more channels),
    /// <see cref="Grayscale"/> otherwise.</summary>
    public static AugmentationOptions DefaultFor(ImageDataset dataset) => dataset.Channels >= 3 ? Cifar : Grayscale;

    /// <summary>The default for a dataset kind (CIFAR-10/100: <see cref="Cifar"/>; Fashion-MNIST, MNIST, builtin:
    /// <see cref="Grayscale"/>); for npy, which can hold either, use <see cref="DefaultFor(ImageDataset)"/>.</summary>
    public static AugmentationOptions DefaultFor(DatasetKind kind) =>
        kind is DatasetKind.Cifar10 or DatasetKind.Cifar100 ? Cifar : Grayscale;

    /// <summary>Throws unless the options fit images of <paramref name="dataset"/>'s shape.</summary>
    public void Validate(ImageDataset dataset)
    {
        if (Padding < 0 || Padding > Math.Min(dataset.Height, dataset.Width))
            throw new ArgumentException($"augmentation for '{dataset.Name}': padding {Padding}, expected 0..{Math.Min(dataset.Height, dataset.Width)}");
        if (CutoutSize < 0 || CutoutSize > Math.Max(dataset.Height, dataset.Width))
            throw new ArgumentException($"augmentation for '{dataset.Name}': cutout size {CutoutSize}, expected 0..{Math.Max(dataset.Height, dataset.Width)}");
        if (Normalization is not null && Normalization.Channels != dataset.Channels)
            throw new ArgumentException($"augmentation for '{dataset.Name}': normalisation for {Normalization.Channels} channels, the images have {dataset.Channels}");
    }
}
