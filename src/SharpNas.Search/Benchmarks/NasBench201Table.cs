using System.Globalization;

namespace SharpNas.Search.Benchmarks;

/// <summary>
/// The NAS-Bench-201 table (<c>nas-bench-201/nas-bench-201.csv</c> of the shared benchmarks folder): every one of the
/// 15,625 cells with its accuracies, training time and cost columns, looked up by sample in O(1).
/// </summary>
public sealed class NasBench201Table
{
    /// <summary>File name inside the benchmarks folder.</summary>
    public const string RelativePath = "nas-bench-201/nas-bench-201.csv";
    /// <summary>Environment variable naming the benchmarks folder.</summary>
    public const string EnvironmentVariable = "SHARPNAS_BENCHMARKS";

    private readonly Dictionary<string, double[]> _columns;   // by name, indexed by NasBench201Space.Code
    private readonly int[] _index;
    private readonly string[] _arch;

    /// <summary>The file read.</summary>
    public string Path { get; }
    /// <summary>Numeric column names in file order.</summary>
    public IReadOnlyList<string> Columns { get; }

    private NasBench201Table(string path, List<string> columns, Dictionary<string, double[]> values, int[] index, string[] arch)
    {
        Path = path;
        Columns = columns;
        _columns = values;
        _index = index;
        _arch = arch;
    }

    /// <summary>The benchmarks folder: <paramref name="option"/> if given, else <c>$SHARPNAS_BENCHMARKS</c>, else the
    /// first <c>../shared/benchmarks</c> found from the current folder or one of its parents.</summary>
    public static string ResolveDirectory(string? option)
    {
        if (!string.IsNullOrWhiteSpace(option)) return option;
        string? env = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(env)) return env;
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            string candidate = System.IO.Path.Combine(dir.FullName, "..", "shared", "benchmarks");
            if (File.Exists(System.IO.Path.Combine(candidate, RelativePath))) return System.IO.Path.GetFullPath(candidate);
        }
        return System.IO.Path.Combine("..", "shared", "benchmarks");
    }

    /// <summary>Reads the table from a benchmarks folder (see <see cref="ResolveDirectory"/>).</summary>
    public static NasBench201Table LoadFromDirectory(string directory) => Load(System.IO.Path.Combine(directory, RelativePath));

    /// <summary>Reads the CSV; a missing file, a wrong header, a bad number or a missing cell is an error naming it.</summary>
    public static NasBench201Table Load(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"NAS-Bench-201 table {path} does not exist (give --benchmarks DIR or set ${EnvironmentVariable} to the folder holding {RelativePath})", path);
        using var reader = new StreamReader(path);
        string header = reader.ReadLine() ?? throw new InvalidDataException($"{path}: empty file, expected a header line");
        string[] names = header.Split(',');
        if (names.Length < 3 || names[0] != "index" || names[1] != "arch_str")
            throw new InvalidDataException($"{path}: header must start with index,arch_str, found '{string.Join(",", names.Take(3))}'");
        var columns = names.Skip(2).ToList();
        var values = columns.ToDictionary(c => c, _ => new double[NasBench201Space.CellCount], StringComparer.Ordinal);
        var arrays = columns.Select(c => values[c]).ToArray();
        var index = Enumerable.Repeat(-1, NasBench201Space.CellCount).ToArray();
        var arch = new string[NasBench201Space.CellCount];
        int line = 1;
        for (string? row = reader.ReadLine(); row is not null; row = reader.ReadLine())
        {
            line++;
            if (row.Length == 0) continue;
            string[] f = row.Split(',');
            if (f.Length != names.Length) throw new InvalidDataException($"{path}:{line}: {f.Length} fields, expected {names.Length}");
            int[] sample;
            try { sample = NasBench201Space.ParseArchString(f[1]); }
            catch (FormatException e) { throw new InvalidDataException($"{path}:{line}: {e.Message}"); }
            int code = NasBench201Space.Code(sample);
            if (index[code] >= 0) throw new InvalidDataException($"{path}:{line}: cell {f[1]} appears twice");
            if (!int.TryParse(f[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out index[code]))
                throw new InvalidDataException($"{path}:{line}: index '{f[0]}' is not an integer");
            arch[code] = f[1];
            for (int c = 0; c < arrays.Length; c++)
                if (!double.TryParse(f[c + 2], NumberStyles.Float, CultureInfo.InvariantCulture, out arrays[c][code]))
                    throw new InvalidDataException($"{path}:{line}: column {columns[c]} '{f[c + 2]}' is not a number");
        }
        int missing = Array.IndexOf(index, -1);
        if (missing >= 0)
            throw new InvalidDataException($"{path}: {index.Count(i => i < 0)} of {NasBench201Space.CellCount} cells are missing (truncated file?), e.g. code {missing}");
        return new NasBench201Table(path, columns, values, index, arch);
    }

    /// <summary>A column's value for a sample; an unknown column is an error listing the known ones.</summary>
    public double Value(string column, ReadOnlySpan<int> sample) => ColumnValues(column)[NasBench201Space.Code(sample)];

    /// <summary>The benchmark's architecture index of a sample.</summary>
    public int Index(ReadOnlySpan<int> sample) => _index[NasBench201Space.Code(sample)];

    /// <summary>The benchmark's cell string of a sample, as in the file.</summary>
    public string Arch(ReadOnlySpan<int> sample) => _arch[NasBench201Space.Code(sample)];

    /// <summary>All values of a column, indexed by <see cref="NasBench201Space.Code"/>.</summary>
    public IReadOnlyList<double> Column(string column) => ColumnValues(column);

    private double[] ColumnValues(string column) => _columns.TryGetValue(column, out double[]? v) ? v
        : throw new ArgumentException($"NAS-Bench-201 table: no column '{column}'; columns are {string.Join(", ", Columns)}");
}
