using System.Text;
using SharpNas.Search.Spaces;

namespace SharpNas.Search.Benchmarks;

/// <summary>
/// The NAS-Bench-201 cell as a discrete space: six edges of a 4-node cell, each one of five operations. Decision i is
/// edge i in the order of the benchmark's cell string <c>|A~0|+|B~0|C~1|+|D~0|E~1|F~2|</c>:
/// A = 1←0, B = 2←0, C = 2←1, D = 3←0, E = 3←1, F = 3←2. All six decisions are of kind <c>op</c>.
/// </summary>
public sealed class NasBench201Space : IDiscreteSpace
{
    /// <summary>The operations, in choice order.</summary>
    public static IReadOnlyList<string> Operations { get; } = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"];

    /// <summary>(to, from) node of each edge, in decision order.</summary>
    public static IReadOnlyList<(int To, int From)> Edges { get; } = [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)];

    /// <summary>Number of cells (5^6).</summary>
    public const int CellCount = 15625;

    /// <summary>The one instance.</summary>
    public static NasBench201Space Instance { get; } = new();

    /// <inheritdoc/>
    public IReadOnlyList<DiscreteDecision> Decisions { get; } =
        Edges.Select(e => new DiscreteDecision($"edge{e.To}<-{e.From}", Operations.Count, "op")).ToArray();

    private NasBench201Space() { }

    /// <summary>The benchmark's cell string of a sample.</summary>
    public static string ArchString(ReadOnlySpan<int> sample)
    {
        Instance.Validate(sample);
        var sb = new StringBuilder("|");
        for (int i = 0; i < 6; i++)
        {
            if (i is 1 or 3) sb.Append("+|");
            sb.Append(Operations[sample[i]]).Append('~').Append(Edges[i].From).Append('|');
        }
        return sb.ToString();
    }

    /// <summary>The sample of a cell string; an unknown operation or a malformed string is an error naming it.</summary>
    public static int[] ParseArchString(string arch)
    {
        string[] nodes = arch.Split('+');
        if (nodes.Length != 3) throw new FormatException($"NAS-Bench-201 cell '{arch}': expected 3 nodes separated by '+', found {nodes.Length}");
        var sample = new int[6];
        int i = 0;
        for (int node = 0; node < 3; node++)
        {
            string[] edges = nodes[node].Split('|', StringSplitOptions.RemoveEmptyEntries);
            if (edges.Length != node + 1) throw new FormatException($"NAS-Bench-201 cell '{arch}': node {node + 1} needs {node + 1} edges, found {edges.Length}");
            for (int from = 0; from <= node; from++, i++)
            {
                string[] parts = edges[from].Split('~');
                int op = parts.Length == 2 ? IndexOf(parts[0]) : -1;
                if (op < 0 || parts[1] != from.ToString(System.Globalization.CultureInfo.InvariantCulture))
                    throw new FormatException($"NAS-Bench-201 cell '{arch}': edge '{edges[from]}' is not <op>~{from} with op one of {string.Join(", ", Operations)}");
                sample[i] = op;
            }
        }
        return sample;
    }

    /// <summary>A dense code in [0, 5^6) of a sample (base 5, decision 0 least significant); not the benchmark's index.</summary>
    public static int Code(ReadOnlySpan<int> sample)
    {
        int code = 0;
        for (int i = 5; i >= 0; i--) code = code * 5 + sample[i];
        return code;
    }

    private static int IndexOf(string op)
    {
        for (int k = 0; k < Operations.Count; k++) if (Operations[k] == op) return k;
        return -1;
    }
}
