namespace SharpNas.Search.Importance;

/// <summary>A feature-importance criterion: one non-negative-ish score per feature (larger = more important).</summary>
public interface IFeatureImportance
{
    /// <summary>Which criterion this is.</summary>
    ImportanceCriterion Criterion { get; }

    /// <summary>Scores every column of <paramref name="x"/> (n samples × p features) given each sample's class label
    /// in [0, <paramref name="classes"/>). Returns p scores. Unsupervised criteria validate but ignore the labels.</summary>
    /// <exception cref="ArgumentException">Fewer than 2 samples, no features, NaN or infinite features, a label count
    /// that differs from the sample count, or a label out of range.</exception>
    double[] Score(FeatureMatrix x, ReadOnlySpan<int> labels, int classes);
}
