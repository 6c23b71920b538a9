namespace SharpNas.Search.Trials;

/// <summary>Shared reading of the <c>trial_epochs</c> rows of both stores.</summary>
internal static class TrialEpochs
{
    /// <summary>The curves of rows ordered by trial and epoch: for each key the values of epochs 1, 2, … up to the first
    /// missing epoch (later ones, if any, are ignored).</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<double>> Curves(IEnumerable<(string Key, int Epoch, double Value)> rows)
    {
        var curves = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        foreach ((string key, int epoch, double value) in rows)
        {
            if (!curves.TryGetValue(key, out List<double>? curve)) curves[key] = curve = [];
            if (epoch == curve.Count + 1) curve.Add(value);
        }
        return curves.Where(c => c.Value.Count > 0).ToDictionary(c => c.Key, c => (IReadOnlyList<double>)c.Value, StringComparer.Ordinal);
    }
}
