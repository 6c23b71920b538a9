using System.Globalization;
using SharpNas.Engine;

namespace SharpNas.Data;

/// <summary>How many training images to hold out for validation: an absolute count or a fraction of the set.</summary>
public readonly record struct ValidationSize
{
    private ValidationSize(int? count, double? fraction) => (Count, Fraction) = (count, fraction);

    /// <summary>The absolute count, when given as a count.</summary>
    public int? Count { get; }

    /// <summary>The fraction in [0, 1), when given as a fraction.</summary>
    public double? Fraction { get; }

    /// <summary>Hold out exactly <paramref name="count"/> images.</summary>
    public static ValidationSize FromCount(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return new(count, null);
    }

    /// <summary>Hold out round(<paramref name="fraction"/> × N) images; the fraction is in [0, 1).</summary>
    public static ValidationSize FromFraction(double fraction)
    {
        if (!(fraction >= 0 && fraction < 1)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "a validation fraction must be in [0, 1)");
        return new(null, fraction);
    }

    /// <summary>Parses <c>5000</c> (a count), <c>0.1</c> (a fraction) or <c>10%</c>.</summary>
    public static ValidationSize Parse(string text)
    {
        string t = text.Trim();
        if (t.EndsWith('%') && double.TryParse(t[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out double percent) && percent >= 0 && percent < 100)
            return FromFraction(percent / 100);
        if (int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out int count)) return FromCount(count);
        if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double fraction) && fraction >= 0 && fraction < 1)
            return FromFraction(fraction);
        throw new DataFormatException($"validation size '{text}'", "expected a count (e.g. 5000), a fraction in [0, 1) (e.g. 0.1) or a percentage (e.g. 10%)");
    }

    /// <summary>The number of images to hold out of <paramref name="total"/>.</summary>
    public int Resolve(int total) => Count ?? (int)Math.Round((Fraction ?? 0) * total, MidpointRounding.AwayFromZero);

    /// <inheritdoc/>
    public override string ToString() => Count is int c ? c.ToString(CultureInfo.InvariantCulture) : (Fraction ?? 0).ToString(CultureInfo.InvariantCulture);
}

/// <summary>A training set and the validation set held out of it (disjoint).</summary>
public sealed record DatasetSplit(ImageDataset Train, ImageDataset Validation);

/// <summary>
/// Carves a validation set out of a training set, deterministically from <paramref name="Seed"/>.
/// <para>Stratified (the default): each class gives the same share of its images (shares rounded by largest
/// remainder so the total is exact), chosen at random within the class, so the class balance of both parts
/// follows the source. Plain: a uniformly random subset of the whole set.</para>
/// Both parts keep the source's relative order (the loader shuffles anyway).
/// </summary>
/// <param name="Size">How many images to hold out.</param>
/// <param name="Seed">Seed of the selection; the same seed and set give the same split.</param>
/// <param name="Stratified">Whether to keep per-class proportions (true) or draw uniformly (false).</param>
public sealed record ValidationSplit(ValidationSize Size, ulong Seed, bool Stratified = true)
{
    /// <summary>Splits <paramref name="source"/> into (train, validation).</summary>
    public DatasetSplit Apply(ImageDataset source)
    {
        int n = source.Count;
        int k = Size.Resolve(n);
        if (k < 0 || k >= n)
            throw new DataFormatException(source.Name, $"validation size {Size} = {k:N0} images, expected 0..{n - 1:N0} (the set has {n:N0})");
        var held = new bool[n];
        var random = new SeededRandom(Seed);
        if (Stratified) MarkStratified(source, k, random, held);
        else
        {
            int[] order = Enumerable.Range(0, n).ToArray();
            random.Derive("validation/plain").Shuffle(order.AsSpan());
            for (int i = 0; i < k; i++) held[order[i]] = true;
        }
        int[] trainIndices = Enumerable.Range(0, n).Where(i => !held[i]).ToArray();
        int[] validationIndices = Enumerable.Range(0, n).Where(i => held[i]).ToArray();
        return new DatasetSplit(source.Subset(trainIndices, source.Name + "/train"), source.Subset(validationIndices, source.Name + "/validation"));
    }

    private static void MarkStratified(ImageDataset source, int k, SeededRandom random, bool[] held)
    {
        int n = source.Count;
        int[] perClass = source.CountPerClass();
        // Quotas proportional to class size; the leftover goes to the largest remainders (ties: lower class first).
        var quota = new int[perClass.Length];
        var remainder = new long[perClass.Length];
        int assigned = 0;
        for (int c = 0; c < perClass.Length; c++)
        {
            long exact = (long)k * perClass[c];
            quota[c] = (int)(exact / n);
            remainder[c] = exact % n;
            assigned += quota[c];
        }
        foreach (int c in Enumerable.Range(0, perClass.Length).OrderByDescending(c => remainder[c]).ThenBy(c => c).Take(k - assigned))
            quota[c]++;
        for (int c = 0; c < perClass.Length; c++)
        {
            if (quota[c] == 0) continue;
            int[] members = Enumerable.Range(0, n).Where(i => source.Labels[i] == c).ToArray();
            random.Derive("validation/class", c).Shuffle(members.AsSpan());
            for (int i = 0; i < quota[c]; i++) held[members[i]] = true;
        }
    }
}
