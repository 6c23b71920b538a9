namespace SharpNas.Training;

/// <summary>What a trainer reports while it works (for progress bars and logs): after every training batch (phase
/// <c>train</c>), and once an epoch has been evaluated (phase <c>epoch</c>, with <see cref="Finished"/> set).</summary>
public sealed record TrainingProgress(
    string Phase, int Epoch, int Epochs, int Batch, int Batches, double Loss, double Accuracy,
    double ImagesPerSecond, TimeSpan Elapsed, TimeSpan Remaining, double LearningRate, EpochMetrics? Finished = null);

/// <summary>The result of one epoch.</summary>
public sealed record EpochMetrics(
    int Epoch, double LearningRate, double TrainLoss, double TrainAccuracy,
    double? ValidationLoss, double? ValidationAccuracy, double? TestLoss, double? TestAccuracy,
    double Seconds, double ImagesPerSecond);

/// <summary>Loss and top-1 accuracy of a model on a dataset.</summary>
public sealed record Evaluation(double Loss, double Accuracy, int Count);

/// <summary>The outcome of a training run.</summary>
public sealed record TrainingResult(IReadOnlyList<EpochMetrics> History, Evaluation? Validation, Evaluation? Test, TimeSpan WallTime, bool Resumed)
{
    /// <summary>The last epoch's metrics.</summary>
    public EpochMetrics Last => History[^1];
}

/// <summary>Training stopped because the loss became NaN or infinite.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
