using System.Text.Json.Serialization;
using SharpNas.Data;
using SharpNas.Engine.Optim;

namespace SharpNas.Training;

/// <summary>The optimiser a trainer uses.</summary>
public enum OptimizerKind
{
    /// <summary>SGD with momentum (Nesterov by default) and weight decay.</summary>
    Sgd,
    /// <summary>Adam (L2 weight decay).</summary>
    Adam,
    /// <summary>AdamW (decoupled weight decay).</summary>
    AdamW,
}

/// <summary>Everything that decides how a network is trained. Two runs with equal options, seed and thread count
/// produce the same weights.</summary>
public sealed record TrainerOptions
{
    /// <summary>Passes over the training set.</summary>
    public int Epochs { get; init; } = 30;
    /// <summary>Images per step.</summary>
    public int BatchSize { get; init; } = 128;
    /// <summary>Base learning rate.</summary>
    public double LearningRate { get; init; } = 0.1;
    /// <summary>Learning-rate schedule over epochs; null = <see cref="ScheduleName"/> over <see cref="Epochs"/>.</summary>
    public LrSchedule? Schedule { get; init; }
    /// <summary>The schedule by name (<see cref="LrSchedule.Parse"/>: <c>cosine</c>, <c>warmup5-cosine</c>, …), used when
    /// <see cref="Schedule"/> is null and resolved over <see cref="Epochs"/>: <c>options with { Epochs = n }</c> keeps its
    /// shape over n epochs, as a search needs for trainings of different lengths; null = cosine. Not serialised: the
    /// schedule it yields is part of what identifies a run (<see cref="EffectiveSchedule"/>).</summary>
    [JsonIgnore]
    public string? ScheduleName { get; init; }
    /// <summary>Optimiser.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Sgd;
    /// <summary>SGD momentum.</summary>
    public double Momentum { get; init; } = 0.9;
    /// <summary>Nesterov momentum for SGD.</summary>
    public bool Nesterov { get; init; } = true;
    /// <summary>Weight decay.</summary>
    public double WeightDecay { get; init; } = 5e-4;
    /// <summary>Label smoothing ε of the loss.</summary>
    public float LabelSmoothing { get; init; }
    /// <summary>Global-norm gradient clipping, or null for none.</summary>
    public double? ClipGradNorm { get; init; }
    /// <summary>The run's seed: initialisation, data order, augmentation and any noise derive from it.</summary>
    public ulong Seed { get; init; }
    /// <summary>Training augmentation; null = the dataset's default.</summary>
    public AugmentationOptions? Augmentation { get; init; }
    /// <summary>Evaluate on the test set after every epoch (else only at the end).</summary>
    public bool EvaluateTestEveryEpoch { get; init; } = true;
    /// <summary>Batch size for evaluation.</summary>
    public int EvalBatchSize { get; init; } = 256;
    /// <summary>Early stopping: asked after every epoch but the last with the history so far (and once more when a run
    /// resumes at an epoch boundary); returning true ends the run there (as if it had been planned that long). A search's
    /// pruner uses it. Not part of what identifies a run.</summary>
    [JsonIgnore]
    public Func<IReadOnlyList<EpochMetrics>, bool>? StopAfterEpoch { get; init; }

    /// <summary>The effective schedule.</summary>
    public LrSchedule EffectiveSchedule => Schedule
        ?? (ScheduleName is null ? new LrSchedule.Cosine(Math.Max(1, Epochs), 0) : LrSchedule.Parse(ScheduleName, Epochs));

    /// <summary>Checks the values; errors name the option.</summary>
    public void Validate()
    {
        if (Epochs < 1) throw new ArgumentException($"epochs must be at least 1, got {Epochs}");
        if (BatchSize < 1) throw new ArgumentException($"batch size must be at least 1, got {BatchSize}");
        if (!(LearningRate > 0)) throw new ArgumentException($"learning rate must be positive, got {LearningRate}");
        if (WeightDecay < 0) throw new ArgumentException($"weight decay must be non-negative, got {WeightDecay}");
        if (LabelSmoothing is < 0 or >= 1) throw new ArgumentException($"label smoothing must be in [0, 1), got {LabelSmoothing}");
        if (EvalBatchSize < 1) throw new ArgumentException($"evaluation batch size must be at least 1, got {EvalBatchSize}");
        _ = EffectiveSchedule;   // a bad schedule name is an error here, not at the first step
    }
}
