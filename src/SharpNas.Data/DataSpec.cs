namespace SharpNas.Data;

/// <summary>The dataset formats a <see cref="DataSpec"/> can name.</summary>
public enum DatasetKind
{
    /// <summary>CIFAR-10 binary files (<c>cifar10:PATH</c>).</summary>
    Cifar10,

    /// <summary>CIFAR-100 binary files, fine labels (<c>cifar100:PATH</c>).</summary>
    Cifar100,

    /// <summary>Fashion-MNIST IDX files (<c>fashion-mnist:PATH</c>).</summary>
    FashionMnist,

    /// <summary>MNIST IDX files (<c>mnist:PATH</c>).</summary>
    Mnist,

    /// <summary>NumPy <c>.npy</c> image/label pairs (<c>npy:PATH</c>).</summary>
    Npy,

    /// <summary>The small Fashion-MNIST subset embedded in SharpNas.Data (<c>builtin</c>).</summary>
    Builtin,
}

/// <summary>
/// A parsed data spec, <c>NAME:PATH</c> (e.g. <c>cifar10:/data/cifar-10-batches-bin</c>) or <c>builtin</c>.
/// NAME is one of <see cref="ValidNames"/>; PATH is a folder (everything after the first colon, so Windows
/// drive letters work).
/// </summary>
/// <param name="Kind">The format.</param>
/// <param name="Path">The folder holding the files; null for <see cref="DatasetKind.Builtin"/>.</param>
public sealed record DataSpec(DatasetKind Kind, string? Path)
{
    /// <summary>The dataset names a spec accepts, in the order error messages list them.</summary>
    public static IReadOnlyList<string> ValidNames { get; } = ["cifar10", "cifar100", "fashion-mnist", "mnist", "npy", "builtin"];

    /// <summary>The spec's name, as written in <c>NAME:PATH</c>.</summary>
    public string Name => ValidNames[(int)Kind];

    /// <summary>Parses <c>NAME:PATH</c> or <c>builtin</c>; throws <see cref="DataFormatException"/> naming the valid names.</summary>
    public static DataSpec Parse(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        string text = spec.Trim();
        int colon = text.IndexOf(':');
        string name = (colon < 0 ? text : text[..colon]).Trim().ToLowerInvariant();
        string path = colon < 0 ? "" : text[(colon + 1)..].Trim();
        int index = -1;
        for (int i = 0; i < ValidNames.Count; i++)
        {
            if (ValidNames[i] == name) index = i;
        }
        if (index < 0)
            throw new DataFormatException($"data spec '{spec}'", $"unknown dataset '{name}', expected one of {string.Join(", ", ValidNames)} (as NAME:PATH, or the word builtin)");
        var kind = (DatasetKind)index;
        if (kind == DatasetKind.Builtin)
        {
            if (path.Length > 0) throw new DataFormatException($"data spec '{spec}'", $"'builtin' takes no path, found '{path}'");
            return new DataSpec(kind, null);
        }
        if (path.Length == 0)
            throw new DataFormatException($"data spec '{spec}'", $"expected {name}:PATH with the folder holding the files, found no path");
        return new DataSpec(kind, path);
    }

    /// <summary>Reads the train and test sets this spec names.</summary>
    public DatasetPair Load() => Kind switch
    {
        DatasetKind.Cifar10 => CifarReader.ReadCifar10(Path!),
        DatasetKind.Cifar100 => CifarReader.ReadCifar100(Path!),
        DatasetKind.FashionMnist => IdxReader.ReadDataset(Path!, "fashion-mnist", IdxReader.FashionMnistClassNames),
        DatasetKind.Mnist => IdxReader.ReadDataset(Path!, "mnist", IdxReader.MnistClassNames),
        DatasetKind.Npy => NpyReader.ReadDataset(Path!),
        DatasetKind.Builtin => BuiltinDataset.Load(),
        _ => throw new InvalidOperationException($"unhandled dataset kind {Kind}"),
    };

    /// <inheritdoc/>
    public override string ToString() => Path is null ? Name : $"{Name}:{Path}";
}
