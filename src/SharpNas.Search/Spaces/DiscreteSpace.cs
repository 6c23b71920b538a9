using System.Globalization;
using System.Text;
using SharpNas.Engine;

namespace SharpNas.Search.Spaces;

/// <summary>
/// One categorical decision of a <see cref="IDiscreteSpace"/>: a name, how many choices it has (given up front,
/// so a decision's count may depend on its position, e.g. a NASNet block input picks among 2 + block index states)
/// and a <see cref="Kind"/>: decisions of one kind share the controller's embedding table (and, optionally, its
/// softmax head). The kind defaults to the name.
/// </summary>
public sealed record DiscreteDecision
{
    /// <summary>Name of the decision (e.g. <c>normal/block2/input1</c>).</summary>
    public string Name { get; }
    /// <summary>Number of choices (≥ 1); a sample holds a value in [0, Choices).</summary>
    public int Choices { get; }
    /// <summary>The decision's type (e.g. <c>input</c>, <c>op</c>, <c>combine</c>).</summary>
    public string Kind { get; }

    /// <summary>Creates a decision; <paramref name="kind"/> null means the decision is a kind of its own.</summary>
    public DiscreteDecision(string name, int choices, string? kind = null)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("DiscreteDecision: the name must be non-empty");
        if (choices < 1) throw new ArgumentOutOfRangeException(nameof(choices), $"DiscreteDecision '{name}': choices must be ≥ 1, found {choices}");
        Name = name;
        Choices = choices;
        Kind = string.IsNullOrWhiteSpace(kind) ? name : kind;
    }
}

/// <summary>
/// A search space of categorical decisions taken in order; a sample is an <c>int[]</c> with one choice per decision.
/// </summary>
public interface IDiscreteSpace
{
    /// <summary>The decisions in the order they are taken.</summary>
    IReadOnlyList<DiscreteDecision> Decisions { get; }
}

/// <summary>A plain <see cref="IDiscreteSpace"/>: a list of decisions.</summary>
public sealed class DiscreteSpace : IDiscreteSpace
{
    /// <inheritdoc/>
    public IReadOnlyList<DiscreteDecision> Decisions { get; }

    /// <summary>Creates a space from its decisions (at least one; names unique).</summary>
    public DiscreteSpace(IEnumerable<DiscreteDecision> decisions)
    {
        Decisions = decisions.ToArray();
        if (Decisions.Count == 0) throw new ArgumentException("DiscreteSpace: at least one decision is needed");
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (DiscreteDecision d in Decisions)
            if (!names.Add(d.Name)) throw new ArgumentException($"DiscreteSpace: decision name '{d.Name}' appears twice");
    }

    /// <summary><paramref name="count"/> decisions of <paramref name="choices"/> choices each, all of one kind,
    /// named <c>{kind}0</c>, <c>{kind}1</c>, ….</summary>
    public static DiscreteSpace Uniform(int count, int choices, string kind = "d") =>
        new(Enumerable.Range(0, count).Select(i => new DiscreteDecision(kind + i.ToString(CultureInfo.InvariantCulture), choices, kind)));
}

/// <summary>Operations every <see cref="IDiscreteSpace"/> supports: validation, keys, uniform sampling, size.</summary>
public static class DiscreteSpaceExtensions
{
    /// <summary>Throws when <paramref name="sample"/> does not fit the space, naming the decision and the value.</summary>
    public static void Validate(this IDiscreteSpace space, ReadOnlySpan<int> sample)
    {
        IReadOnlyList<DiscreteDecision> d = space.Decisions;
        if (sample.Length != d.Count)
            throw new ArgumentException($"sample has {sample.Length} choices, the space has {d.Count} decisions");
        for (int i = 0; i < d.Count; i++)
            if ((uint)sample[i] >= (uint)d[i].Choices)
                throw new ArgumentException($"sample decision {i} '{d[i].Name}': choice {sample[i]} is outside [0, {d[i].Choices})");
    }

    /// <summary>A stable text key of a sample for deduplication: the choices joined by '-', e.g. <c>3-0-4-1</c>.</summary>
    public static string Key(this IDiscreteSpace space, ReadOnlySpan<int> sample)
    {
        space.Validate(sample);
        var sb = new StringBuilder(sample.Length * 3);
        for (int i = 0; i < sample.Length; i++)
        {
            if (i > 0) sb.Append('-');
            sb.Append(sample[i].ToString(CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    /// <summary>The sample a <see cref="Key"/> names; a malformed key is an error naming it.</summary>
    public static int[] ParseKey(this IDiscreteSpace space, string key)
    {
        string[] parts = key.Split('-');
        var sample = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out sample[i]))
                throw new FormatException($"sample key '{key}': part {i} '{parts[i]}' is not a non-negative integer");
        space.Validate(sample);
        return sample;
    }

    /// <summary>Every decision uniform over its choices.</summary>
    public static int[] SampleUniform(this IDiscreteSpace space, SeededRandom rng)
    {
        IReadOnlyList<DiscreteDecision> d = space.Decisions;
        var sample = new int[d.Count];
        for (int i = 0; i < sample.Length; i++) sample[i] = rng.NextInt(d[i].Choices);
        return sample;
    }

    /// <summary>Number of distinct samples (the product of the choice counts), as a double to avoid overflow.</summary>
    public static double Size(this IDiscreteSpace space) => space.Decisions.Aggregate(1.0, (p, d) => p * d.Choices);
}
