namespace SharpNas.Search.Importance;

/// <summary>
/// The stage score of the stage-wise search: the mean importance of the features a stage outputs
/// (pooled with <see cref="StageFeatures"/>), under one criterion.
/// </summary>
public sealed class StageImportance
{
    /// <summary>Scores stages with <paramref name="criterion"/>.</summary>
    public StageImportance(IFeatureImportance criterion)
    {
        ArgumentNullException.ThrowIfNull(criterion);
        Criterion = criterion;
    }

    /// <summary>Scores stages with the criterion <paramref name="criterion"/> and its options.</summary>
    public StageImportance(ImportanceCriterion criterion, ImportanceOptions? options = null)
        : this(FeatureImportance.Create(criterion, options)) { }

    /// <summary>The feature-importance criterion.</summary>
    public IFeatureImportance Criterion { get; }

    /// <summary>Mean feature importance of one stage's features.</summary>
    public double ScoreStage(FeatureMatrix features, ReadOnlySpan<int> labels, int classes)
    {
        ArgumentNullException.ThrowIfNull(features);
        double[] scores = Criterion.Score(features, labels, classes);
        double sum = 0;
        foreach (double s in scores) sum += s;
        return sum / scores.Length;
    }

    /// <summary>Mean feature importance of every stage; all stages hold the same samples, in the order of
    /// <paramref name="labels"/>.</summary>
    public double[] Score(IReadOnlyList<FeatureMatrix> stages, ReadOnlySpan<int> labels, int classes)
    {
        ArgumentNullException.ThrowIfNull(stages);
        if (stages.Count == 0) throw new ArgumentException("StageImportance: no stage to score", nameof(stages));
        for (int i = 0; i < stages.Count; i++)
        {
            if (stages[i] is null) throw new ArgumentNullException(nameof(stages), $"StageImportance: stage {i} is null");
            if (stages[i].Rows != labels.Length)
                throw new ArgumentException($"StageImportance: stage {i} has {stages[i].Rows} samples, labels has {labels.Length}", nameof(stages));
        }
        var result = new double[stages.Count];
        for (int i = 0; i < stages.Count; i++) result[i] = ScoreStage(stages[i], labels, classes);
        return result;
    }

    /// <summary>One-call form: mean importance per stage under <paramref name="criterion"/>.</summary>
    public static double[] Compute(ImportanceCriterion criterion, IReadOnlyList<FeatureMatrix> stages,
        ReadOnlySpan<int> labels, int classes, ImportanceOptions? options = null)
        => new StageImportance(criterion, options).Score(stages, labels, classes);
}
