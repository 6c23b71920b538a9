namespace SharpNas.Data;

/// <summary>
/// Bad dataset input: a missing file or folder, a truncated file, a wrong header, a label out of range, an
/// empty set, an unknown dataset name. The message names the input, what was expected and what was found,
/// e.g. <c>data_batch_3.bin: 15,360,000 bytes, expected a whole number of 3,073-byte records</c>.
/// </summary>
public sealed class DataFormatException : Exception
{
    /// <summary>Creates the exception; <paramref name="source"/> is the file, folder or spec at fault.</summary>
    public DataFormatException(string source, string message, Exception? inner = null)
        : base(source + ": " + message, inner) => Input = source;

    /// <summary>The file, folder or spec that was at fault, as given by the caller.</summary>
    public string Input { get; }
}
