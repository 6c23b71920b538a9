namespace SharpNas.Search.Importance;

/// <summary>Checks the inputs every criterion shares; messages name the criterion, the input, what was expected
/// and what was found.</summary>
internal static class ImportanceInput
{
    public static void Validate(string who, FeatureMatrix x, ReadOnlySpan<int> labels, int classes, bool supervised)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rows < 2)
            throw new ArgumentException($"{who}: x needs at least 2 samples, got {x.Rows}", nameof(x));
        if (x.Columns < 1)
            throw new ArgumentException($"{who}: x needs at least 1 feature, got {x.Columns}", nameof(x));
        if (labels.Length != x.Rows)
            throw new ArgumentException($"{who}: labels has {labels.Length} entries, expected one per sample ({x.Rows})", nameof(labels));
        if (classes < 1)
            throw new ArgumentOutOfRangeException(nameof(classes), classes, $"{who}: classes must be >= 1");
        int first = -1;
        bool twoClasses = false;
        for (int i = 0; i < labels.Length; i++)
        {
            int label = labels[i];
            if ((uint)label >= (uint)classes)
                throw new ArgumentException($"{who}: labels[{i}] = {label} is out of range [0, {classes})", nameof(labels));
            if (first < 0) first = label;
            else if (label != first) twoClasses = true;
        }
        ReadOnlySpan<float> values = x.Values;
        for (int k = 0; k < values.Length; k++)
            if (!float.IsFinite(values[k]))
                throw new ArgumentException(
                    $"{who}: x[{k / x.Columns}, {k % x.Columns}] is {values[k]}; features must be finite", nameof(x));
        if (supervised && !twoClasses)
            throw new ArgumentException($"{who}: labels hold a single class ({first}); a supervised criterion needs at least 2", nameof(labels));
    }
}
