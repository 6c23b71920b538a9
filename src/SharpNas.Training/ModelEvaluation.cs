using SharpNas.Data;
using SharpNas.Training.Cost;

namespace SharpNas.Training;

/// <summary>What <see cref="ModelEvaluation.Run"/> measured: accuracy and loss on a dataset, and the network's cost.</summary>
public sealed record ModelEvaluationResult
{
    public required string Architecture { get; init; }
    public required string Data { get; init; }
    public required string Split { get; init; }
    public required int Images { get; init; }
    /// <summary>True when each image's logits were averaged with those of its mirror image (flip test-time augmentation).</summary>
    public bool FlipAveraged { get; init; }
    public required double Accuracy { get; init; }
    public required double Loss { get; init; }
    public required long Parameters { get; init; }
    public required long ParametersWithBnStatistics { get; init; }
    public required long Macs { get; init; }
    public required int Depth { get; init; }
    public required long MemoryBytes { get; init; }
    public required int MemoryBatch { get; init; }
    public required IReadOnlyDictionary<string, double> LatencyMs { get; init; }
    public required ChannelStatistics Normalization { get; init; }
    /// <summary>Where the normalisation came from: the weights' metadata, the run's metrics.json, or computed from the
    /// training images of the data given (runs that did not record it).</summary>
    public required string NormalizationSource { get; init; }
}

/// <summary>
/// Evaluates a saved model on a dataset the way <see cref="Trainer"/> evaluates during training (same loader,
/// same normalisation, same batch size, evaluation mode), so it reproduces the accuracy a run recorded, and measures
/// its cost as <see cref="TrainingRun"/> does.
/// </summary>
public static class ModelEvaluation
{
    /// <summary>Accuracy, loss and cost of <paramref name="model"/> on <paramref name="images"/>. <paramref name="trainImages"/>
    /// supplies the normalisation when the model has none recorded. <paramref name="flipAverage"/>: see
    /// <see cref="Trainer.Evaluate"/>.</summary>
    public static ModelEvaluationResult Run(SavedModel model, ImageDataset images, ImageDataset trainImages, string dataName, string split,
        int batchSize, CostSettings costs, bool flipAverage = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if (images.Count == 0) throw new ArgumentException($"{dataName}: the {split} split holds no images");
        var input = new InputSpec(images.Channels, images.Height, images.Width, images.ClassCount);
        ChannelStatistics normalization = model.Normalization ?? ChannelStatistics.Compute(trainImages);
        if (normalization.Channels != images.Channels)
            throw new ArgumentException($"{dataName}: the model was trained on {normalization.Channels}-channel images, the data has {images.Channels} channels");
        Evaluation evaluation;
        using (var loader = BatchLoader.ForEvaluation(images, batchSize, normalization))
            evaluation = Trainer.Evaluate(model.Network, loader, input, flipAverage: flipAverage);
        ArchitectureCost cost = model.Architecture.Cost(input);
        var latency = new Dictionary<string, double>();
        if (costs.LatencyRuns > 0)
            foreach (int b in costs.LatencyBatches)
                latency[$"batch_{b}"] = LatencyMeter.MedianMilliseconds(model.Network, input, b, costs.LatencyRuns);
        return new ModelEvaluationResult
        {
            Architecture = model.Architecture.Describe(),
            Data = dataName,
            Split = split,
            Images = evaluation.Count,
            FlipAveraged = flipAverage,
            Accuracy = evaluation.Accuracy,
            Loss = evaluation.Loss,
            Parameters = cost.Parameters,
            ParametersWithBnStatistics = cost.ParametersWithStatistics,
            Macs = cost.Macs,
            Depth = cost.Depth,
            MemoryBytes = cost.MemoryBytes(batchSize),
            MemoryBatch = batchSize,
            LatencyMs = latency,
            Normalization = normalization,
            NormalizationSource = model.NormalizationSource ?? $"computed from the training images of {dataName} (not recorded with the weights)",
        };
    }
}
