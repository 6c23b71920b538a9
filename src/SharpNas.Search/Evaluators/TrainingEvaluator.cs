using System.Runtime.InteropServices;
using SharpNas.Data;
using SharpNas.Engine;
using SharpNas.Engine.Autograd;
using SharpNas.Engine.IO;
using SharpNas.Engine.Modules;
using SharpNas.Search.Pruning;
using SharpNas.Search.Spaces.StageWise;
using SharpNas.Training;

namespace SharpNas.Search.Evaluators;

/// <summary>
/// Evaluates an architecture by training it (from scratch, or fine-tuning weights transferred from a donor) with
/// <see cref="TrainingRun"/> in the trial's folder — so an interrupted trial resumes from its checkpoint — then
/// records the test-set class probabilities (for ensembles) and, when asked, the stage scores. With a
/// <paramref name="pruning"/> the trainer asks it after every epoch; a trial it stops ends in a
/// <see cref="TrialPrunedException"/> carrying the partial metrics.
/// </summary>
public sealed class TrainingEvaluator(TrainingData data, string dataName, TrainerOptions options, CostSettings costs, IStageScorer? scorer,
    TrialPruning? pruning = null) : IEvaluator
{
    // The training set's channel statistics, computed once for every trial (trainer, probabilities, stage scores).
    private readonly Lazy<ChannelStatistics> _normalization = new(() => options.Augmentation?.Normalization ?? ChannelStatistics.Compute(data.Train));

    /// <summary>File of a trial's test-set softmax outputs (float32, N × classes).</summary>
    public const string TestProbabilitiesFile = "test-probs.bin";

    /// <summary>Training progress of the trial being evaluated.</summary>
    public event Action<TrialRequest, TrainingProgress>? Progress;

    /// <summary>Weights a trial starts from when it transfers none (e.g. EPNAS's parameter-sharing dictionary): named
    /// tensors copied over the fresh initialisation, or null for none. Not used when the trial resumes a checkpoint.</summary>
    public Func<TrialRequest, IReadOnlyDictionary<string, Tensor>?>? InitialWeights { get; set; }

    /// <inheritdoc/>
    public TrialMetrics Evaluate(TrialRequest request, CancellationToken cancel)
    {
        IReadOnlyDictionary<string, Tensor>? transfer = request.TransferFrom is null ? InitialWeights?.Invoke(request)
            : WeightTransfer.FromDonor(request.TransferFrom, request.Architecture as StageGenotype
                ?? throw new ArgumentException("--transfer-from works with staged (residual) networks only"));
        ChannelStatistics normalization = _normalization.Value;
        AugmentationOptions augmentation = (options.Augmentation ?? AugmentationOptions.DefaultFor(data.Train)) with { Normalization = normalization };
        string? pruneReason = null;
        Func<IReadOnlyList<EpochMetrics>, bool>? stop = pruning is null ? null : history =>
        {
            if (history.Any(h => h.ValidationAccuracy is null)) return false;   // no validation set: nothing to judge by
            PruneDecision d = pruning.Decide(request, history.Select(h => h.ValidationAccuracy!.Value).ToArray());
            if (d.Prune) pruneReason = d.Reason;
            return d.Prune;
        };
        RunMetrics run = TrainingRun.Execute(request.Architecture, data, dataName,
            options with { Epochs = request.Epochs, Augmentation = augmentation, StopAfterEpoch = stop }, request.ArtifactDir,
            costs, p => Progress?.Invoke(request, p), cancel, transfer);
        double[]? curve = run.History.All(h => h.ValidationAccuracy is not null) ? run.History.Select(h => h.ValidationAccuracy!.Value).ToArray() : null;
        if (run.History.Count < request.Epochs)
            throw new TrialPrunedException(run.History.Count, Metrics(run, request) with
            {
                ValidCurve = curve, EpochsReached = run.History.Count,
                PruneReason = pruneReason ?? $"stopped early after epoch {run.History.Count} (decided before a restart)",
            });

        Module<Tensor, Tensor> model = request.Architecture.Build(data.Input);
        model.LoadStateDict(Safetensors.Load(Path.Combine(request.ArtifactDir, "model.safetensors")).ByName);
        model.Eval();
        string probs = Path.Combine(request.ArtifactDir, TestProbabilitiesFile);
        if (data.Test is { Count: > 0 } test && !File.Exists(probs))
            TrainingRun.WriteAtomically(probs, TestProbabilities(model, test, normalization));
        TensorPool.ReleaseUnused();
        double[]? scores = request.ScoreStages
            ? (scorer ?? throw new InvalidOperationException("stage scores requested but no stage scorer given")).Score(model, data.Train, normalization)
            : null;
        return Metrics(run, request) with { StageScores = scores, ValidCurve = curve, EpochsReached = run.History.Count };
    }

    private static TrialMetrics Metrics(RunMetrics run, TrialRequest request) => new()
    {
        ValidationAccuracy = run.ValidationAccuracy,
        TestAccuracy = run.TestAccuracy,
        Parameters = run.Parameters,
        ParametersWithBnStatistics = run.ParametersWithBnStatistics,
        Macs = run.Macs,
        Depth = run.Depth,
        MemoryBytes = run.MemoryBytes,
        LatencyMs = run.LatencyMs.TryGetValue("batch_1", out double l) ? l : null,
        TrainSeconds = run.TrainSeconds,
        EnergyKwh = run.EnergyKwh,
        Co2Kg = run.Co2Kg,
        Epochs = request.Epochs,
    };

    /// <summary>Softmax outputs of <paramref name="model"/> on every image of <paramref name="images"/>, as raw float32 bytes.</summary>
    private static byte[] TestProbabilities(Module<Tensor, Tensor> model, ImageDataset images, ChannelStatistics normalization)
    {
        var output = new float[images.Count * images.ClassCount];
        using var loader = BatchLoader.ForEvaluation(images, 256, normalization);
        var pool = new TensorPool();
        int row = 0;
        using (GradMode.NoGrad())
            foreach (Batch b in loader.Evaluation())
            {
                using TensorScope step = pool.BeginStep();
                Tensor logits = model.Forward(Tensor.FromArray(b.Images, b.Count, images.Channels, images.Height, images.Width));
                int c = images.ClassCount;
                for (int i = 0; i < b.Count; i++, row++)
                {
                    Span<float> dst = output.AsSpan(row * c, c);
                    System.Numerics.Tensors.TensorPrimitives.SoftMax(logits.Span.Slice(i * c, c), dst);
                }
            }
        return MemoryMarshal.AsBytes(output.AsSpan()).ToArray();
    }
}
