using System.IO.Compression;

namespace SharpNas.Data;

/// <summary>Finding dataset files (plain or <c>.gz</c>) and reading them whole, with errors that name the file.</summary>
internal static class DataFile
{
    /// <summary>The path of <paramref name="fileName"/> or <paramref name="fileName"/>.gz in <paramref name="directory"/>, or null.</summary>
    public static string? Find(string directory, string fileName)
    {
        string plain = Path.Combine(directory, fileName);
        if (File.Exists(plain)) return plain;
        string gz = plain + ".gz";
        return File.Exists(gz) ? gz : null;
    }

    /// <summary>The first of <paramref name="fileNames"/> (plain or .gz) found in <paramref name="directory"/>; throws naming them all if none is.</summary>
    public static string Require(string directory, params string[] fileNames)
    {
        foreach (string name in fileNames)
        {
            if (Find(directory, name) is string found) return found;
        }
        string wanted = string.Join(" or ", fileNames.Select(n => $"{n}[.gz]"));
        throw new DataFormatException(directory, $"expected file {wanted}, found none");
    }

    /// <summary>Throws unless <paramref name="directory"/> exists.</summary>
    public static void RequireDirectory(string directory, string what)
    {
        if (!Directory.Exists(directory))
            throw new DataFormatException(directory, File.Exists(directory)
                ? $"expected a folder holding {what}, found a file"
                : $"expected a folder holding {what}, found nothing (no such folder)");
    }

    /// <summary>All bytes of a file, decompressed when its name ends in <c>.gz</c>.</summary>
    public static byte[] ReadAll(string path)
    {
        if (!File.Exists(path)) throw new DataFormatException(path, "expected a file, found nothing (no such file)");
        if (!path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)) return File.ReadAllBytes(path);
        using var file = File.OpenRead(path);
        return Decompress(file, path);
    }

    /// <summary>All bytes of a gzip stream, decompressed; <paramref name="name"/> is used in errors.</summary>
    public static byte[] Decompress(Stream compressed, string name)
    {
        try
        {
            using var gzip = new GZipStream(compressed, CompressionMode.Decompress, leaveOpen: true);
            using var output = new MemoryStream();
            gzip.CopyTo(output);
            return output.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException(name, $"expected a gzip stream, found corrupt data ({e.Message})", e);
        }
    }

    /// <summary>The file name alone, for messages that are clearer without the folder.</summary>
    public static string Name(string path) => Path.GetFileName(path);

    /// <summary>Class names from a text file, one per non-empty line (trimmed), or null when the file is absent.</summary>
    public static string[]? ReadClassNames(string directory, string fileName, int expectedCount)
    {
        string? path = Find(directory, fileName);
        if (path is null) return null;
        string text = System.Text.Encoding.UTF8.GetString(ReadAll(path));
        string[] names = text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        if (names.Length != expectedCount)
            throw new DataFormatException(path, $"expected {expectedCount} class names (one per line), found {names.Length}");
        return names;
    }
}
