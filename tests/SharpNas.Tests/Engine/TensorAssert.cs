namespace SharpNas.Tests.Engine;

/// <summary>Element-wise comparison with the fixtures' rule |actual − expected| ≤ atol + rtol·|expected|.</summary>
internal static class TensorAssert
{
    /// <summary>Null when every element passes, else a description of the worst element.</summary>
    public static string? Compare(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, double rtol, double atol)
    {
        if (actual.Length != expected.Length) return $"length {actual.Length} vs {expected.Length}";
        int worst = -1, bad = 0;
        double worstRatio = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double err = Math.Abs((double)actual[i] - expected[i]), allowed = atol + rtol * Math.Abs(expected[i]);
            double ratio = double.IsNaN(err) ? double.PositiveInfinity : err / allowed;
            if (ratio > 1) bad++;
            if (ratio > worstRatio) { worstRatio = ratio; worst = i; }
        }
        return bad == 0 ? null
            : $"{bad} of {actual.Length} elements out of tolerance; worst [{worst}] = {actual[worst]} vs {expected[worst]} ({worstRatio:F1}x the allowance)";
    }

    public static void Close(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, double rtol, double atol, string what = "")
    {
        string? diff = Compare(actual, expected, rtol, atol);
        Assert.True(diff is null, what + " " + diff);
    }
}
