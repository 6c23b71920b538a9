namespace SharpNas.Data;

/// <summary>Options of a <see cref="BatchLoader"/>.</summary>
public sealed record BatchLoaderOptions
{
    /// <summary>Images per batch.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>Shuffle the order of training epochs (seeded by <see cref="Seed"/> and the epoch number).</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Skip the last, smaller batch of a training epoch (evaluation always keeps it).</summary>
    public bool DropLast { get; init; }

    /// <summary>Seed of the order and augmentation streams.</summary>
    public ulong Seed { get; init; }

    /// <summary>Training augmentation and normalisation.</summary>
    public AugmentationOptions Augmentation { get; init; } = AugmentationOptions.None;

    /// <summary>Prepare the next batch on a background thread while the consumer works on the current one.</summary>
    public bool Prefetch { get; init; } = true;
}
