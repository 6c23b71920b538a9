using System.Diagnostics;
using SharpNas.Data;
using SharpNas.Engine;
using SharpNas.Engine.Autograd;
using SharpNas.Engine.Functional;
using SharpNas.Engine.Modules;
using SharpNas.Engine.Optim;
using SharpNas.Training.Checkpoints;

namespace SharpNas.Training;

/// <summary>The data a trainer works on: training images, and optionally validation and test images.</summary>
public sealed record TrainingData(ImageDataset Train, ImageDataset? Validation, ImageDataset? Test)
{
    /// <summary>The problem shape.</summary>
    public InputSpec Input => new(Train.Channels, Train.Height, Train.Width, Train.ClassCount);
}

/// <summary>
/// Trains a network with mini-batch SGD/Adam on a schedule, evaluates it every epoch, and keeps an atomic
/// checkpoint (every epoch and when cancelled) from which the same call resumes to the same result as an
/// uninterrupted run (same seed, same thread count).
/// </summary>
public sealed class Trainer
{
    private readonly Module<Tensor, Tensor> _model;
    private readonly TrainingData _data;
    private readonly TrainerOptions _options;
    private readonly string? _checkpointPath;
    private readonly string _fingerprint;
    private readonly TensorPool _pool = new();
    private readonly TensorPool _evalPool = new();   // evaluation batches reuse their buffers from epoch to epoch
    private readonly IReadOnlyDictionary<string, Tensor>? _initialWeights;

    /// <summary>Progress after every training batch (displays throttle it).</summary>
    public event Action<TrainingProgress>? Progress;

    /// <summary>Creates a trainer. With <paramref name="checkpointPath"/> the run is checkpointed there and resumed from
    /// it when it exists; <paramref name="fingerprint"/> identifies the run (architecture, options, data) so a
    /// checkpoint of another run is refused.</summary>
    public Trainer(Module<Tensor, Tensor> model, TrainingData data, TrainerOptions options, string? checkpointPath = null, string fingerprint = "",
        IReadOnlyDictionary<string, Tensor>? initialWeights = null)
    {
        _initialWeights = initialWeights;
        options.Validate();
        if (data.Train.Count == 0) throw new ArgumentException($"training set {data.Train.Name} is empty");
        _model = model;
        _data = data;
        _options = options;
        _checkpointPath = checkpointPath;
        _fingerprint = fingerprint;
    }

    /// <summary>Trains to the last epoch (or until <paramref name="cancel"/> fires, after checkpointing, or until
    /// <see cref="TrainerOptions.StopAfterEpoch"/> stops it: then the history is shorter and the test set is not evaluated).</summary>
    public TrainingResult Run(CancellationToken cancel = default)
    {
        var rng = new SeededRandom(_options.Seed);
        Optimizer optimizer = CreateOptimizer();
        var history = new List<EpochMetrics>();
        int startEpoch = 0, skipBatches = 0;
        double lossSum = 0, previousSeconds = 0;
        long correct = 0, seen = 0;
        bool resumed = false;
        if (_checkpointPath is not null && File.Exists(_checkpointPath))
        {
            Checkpoint cp = Checkpoint.Restore(_checkpointPath, _fingerprint, _model, optimizer);
            (startEpoch, skipBatches, lossSum, correct, seen) = (cp.Epoch, cp.BatchesDone, cp.PartialLossSum, cp.PartialCorrect, cp.PartialSeen);
            history.AddRange(cp.History);
            previousSeconds = cp.ElapsedSeconds;
            resumed = true;
        }
        else
        {
            _model.Initialize(rng.Derive("init"));
            if (_initialWeights is not null) CopyWeights(_model, _initialWeights);
        }

        var wall = Stopwatch.StartNew();
        using var loader = new BatchLoader(_data.Train, new BatchLoaderOptions
        {
            BatchSize = _options.BatchSize,
            Shuffle = true,
            Seed = rng.Derive("data").NextUInt64(),
            Augmentation = _options.Augmentation ?? AugmentationOptions.DefaultFor(_data.Train),
        });
        using BatchLoader? valLoader = _data.Validation is { Count: > 0 } v ? BatchLoader.ForEvaluation(v, _options.EvalBatchSize, loader.Normalization) : null;
        using BatchLoader? testLoader = _data.Test is { Count: > 0 } t ? BatchLoader.ForEvaluation(t, _options.EvalBatchSize, loader.Normalization) : null;
        InputSpec input = _data.Input;
        int batches = loader.BatchesPerEpoch;
        ITrainingHooks? hooks = _model as ITrainingHooks;
        double secondsBeforeRun = previousSeconds;
        // A run resumed between epochs asks the early-stopping hook again: the decision may have been lost with the process.
        bool stopped = skipBatches == 0 && startEpoch > 0 && startEpoch < _options.Epochs && _options.StopAfterEpoch?.Invoke(history) == true;

        LrSchedule schedule = _options.EffectiveSchedule;
        for (int epoch = startEpoch; epoch < _options.Epochs && !stopped; epoch++)
        {
            double lr = schedule.At(epoch, _options.LearningRate);
            optimizer.LearningRate = lr;
            _model.Train();
            var epochClock = Stopwatch.StartNew();
            long epochImages = 0;
            foreach (Batch batch in loader.Epoch(epoch))
            {
                if (batch.Number < skipBatches) continue;
                int n = batch.Count;
                optimizer.LearningRate = schedule.At(epoch + (double)batch.Number / batches, _options.LearningRate);
                using (TensorScope step = _pool.BeginStep())
                {
                    Tensor x = Tensor.FromArray(batch.Images, n, input.Channels, input.Height, input.Width);
                    hooks?.SetTrainingProgress((epoch + (double)batch.Number / batches) / _options.Epochs);
                    Tensor logits = _model.Forward(x);
                    Tensor loss = hooks is null
                        ? F.CrossEntropy(logits, batch.Labels.AsSpan(0, n), _options.LabelSmoothing)
                        : hooks.TrainingLoss(logits, batch.Labels.AsSpan(0, n), _options.LabelSmoothing);
                    float lossValue = loss.Item();
                    if (!float.IsFinite(lossValue))
                        throw new TrainingDivergedException($"training diverged: loss is {lossValue} at epoch {epoch + 1}, batch {batch.Number + 1} (lower the learning rate, now {lr:G3})");
                    correct += CountCorrect(logits, batch.Labels.AsSpan(0, n));
                    lossSum += lossValue * n;
                    seen += n;
                    optimizer.ZeroGrad();
                    loss.Backward();
                    if (_options.ClipGradNorm is double clip) Optimizer.ClipGradNorm(_model.Parameters(), clip);
                    optimizer.Step();
                }
                epochImages += n;
                if (Progress is not null)
                {
                    double ips = epochImages / Math.Max(1e-9, epochClock.Elapsed.TotalSeconds);
                    long remainingImages = (long)(batches - batch.Number - 1) * _options.BatchSize
                        + (long)(_options.Epochs - epoch - 1) * _data.Train.Count;
                    Progress(new TrainingProgress("train", epoch + 1, _options.Epochs, batch.Number + 1, batches, lossSum / seen,
                        (double)correct / seen, ips, wall.Elapsed, TimeSpan.FromSeconds(remainingImages / Math.Max(ips, 1e-9)), optimizer.LearningRate));
                }
                if (cancel.IsCancellationRequested)
                {
                    SaveCheckpoint(optimizer, epoch, batch.Number + 1, lossSum, correct, seen, history, secondsBeforeRun + wall.Elapsed.TotalSeconds);
                    cancel.ThrowIfCancellationRequested();
                }
            }
            skipBatches = 0;
            Evaluation? val = valLoader is null ? null : Evaluate(_model, valLoader, input, _evalPool);
            Evaluation? test = testLoader is not null && (_options.EvaluateTestEveryEpoch || epoch == _options.Epochs - 1)
                ? Evaluate(_model, testLoader, input, _evalPool) : null;
            double seconds = epochClock.Elapsed.TotalSeconds;
            history.Add(new EpochMetrics(epoch + 1, lr, lossSum / Math.Max(1, seen), (double)correct / Math.Max(1, seen),
                val?.Loss, val?.Accuracy, test?.Loss, test?.Accuracy, seconds, epochImages / Math.Max(1e-9, seconds)));
            lossSum = 0; correct = 0; seen = 0;
            SaveCheckpoint(optimizer, epoch + 1, 0, 0, 0, 0, history, secondsBeforeRun + wall.Elapsed.TotalSeconds);
            if (Progress is not null)
            {
                EpochMetrics done = history[^1];
                double rate = done.ImagesPerSecond > 0 ? done.ImagesPerSecond : 1e-9;
                Progress(new TrainingProgress("epoch", epoch + 1, _options.Epochs, batches, batches, done.TrainLoss, done.TrainAccuracy,
                    done.ImagesPerSecond, wall.Elapsed, TimeSpan.FromSeconds((double)(_options.Epochs - epoch - 1) * _data.Train.Count / rate), lr, done));
            }
            stopped = epoch + 1 < _options.Epochs && _options.StopAfterEpoch?.Invoke(history) == true;
        }

        EpochMetrics last = history[^1];
        Evaluation? finalVal = last.ValidationAccuracy is double va ? new Evaluation(last.ValidationLoss!.Value, va, _data.Validation!.Count) : null;
        Evaluation? finalTest = last.TestAccuracy is double ta ? new Evaluation(last.TestLoss!.Value, ta, _data.Test!.Count) : null;
        if (finalTest is null && testLoader is not null && !stopped) finalTest = Evaluate(_model, testLoader, input, _evalPool);
        return new TrainingResult(history, finalVal, finalTest, TimeSpan.FromSeconds(secondsBeforeRun + wall.Elapsed.TotalSeconds), resumed);
    }

    /// <summary>Copies the given tensors over the model's tensors of the same name (weight transfer); every name must
    /// exist in the model with the same shape.</summary>
    public static void CopyWeights(Module model, IReadOnlyDictionary<string, Tensor> weights)
    {
        var own = model.StateDict().ToDictionary(t => t.Name, t => t.Tensor);
        var problems = new List<string>();
        foreach ((string name, Tensor source) in weights)
        {
            if (!own.TryGetValue(name, out Tensor? target)) problems.Add($"{name} is not in the model");
            else if (!target.HasShape(source.Shape)) problems.Add($"{name}: given {source.ShapeString}, model has {target.ShapeString}");
        }
        if (problems.Count > 0) throw new InvalidDataException("initial weights do not fit the model: " + string.Join("; ", problems));
        foreach ((string name, Tensor source) in weights) own[name].CopyFrom(source);
    }

    private void SaveCheckpoint(Optimizer optimizer, int epoch, int batchesDone, double lossSum, long correct, long seen,
        List<EpochMetrics> history, double elapsed)
    {
        if (_checkpointPath is null) return;
        new Checkpoint(epoch, batchesDone, optimizer.StepCount, lossSum, correct, seen, history.ToArray(), _fingerprint, elapsed)
            .Save(_checkpointPath, _model, optimizer);
    }

    private Optimizer CreateOptimizer() => _options.Optimizer switch
    {
        OptimizerKind.Sgd => new Sgd(_model.Parameters(), _options.LearningRate, _options.Momentum, _options.WeightDecay, _options.Nesterov && _options.Momentum > 0),
        OptimizerKind.Adam => new Adam(_model.Parameters(), _options.LearningRate, weightDecay: _options.WeightDecay),
        OptimizerKind.AdamW => new Adam(_model.Parameters(), _options.LearningRate, weightDecay: _options.WeightDecay, decoupled: true),
        _ => throw new ArgumentOutOfRangeException(nameof(_options), _options.Optimizer, "unknown optimizer"),
    };

    /// <summary>Loss and top-1 accuracy of <paramref name="model"/> on every batch of <paramref name="loader"/> (evaluation
    /// mode, no graph), with tensors from <paramref name="pool"/> (a new one if null). With <paramref name="flipAverage"/>
    /// each image is also run mirrored left to right and the two logit vectors are averaged (flip test-time augmentation,
    /// for data trained with flips); the loss is that of the averaged logits.</summary>
    public static Evaluation Evaluate(Module<Tensor, Tensor> model, BatchLoader loader, InputSpec input, TensorPool? pool = null,
        bool flipAverage = false)
    {
        bool wasTraining = model.Training;
        model.Eval();
        pool ??= new TensorPool();
        double lossSum = 0;
        long correct = 0, seen = 0;
        float[]? mirror = null;
        using (GradMode.NoGrad())
        {
            foreach (Batch batch in loader.Evaluation())
            {
                using TensorScope step = pool.BeginStep();
                int n = batch.Count;
                Tensor logits = model.Forward(Tensor.FromArray(batch.Images, n, input.Channels, input.Height, input.Width));
                if (flipAverage)
                {
                    if (mirror is null || mirror.Length < batch.Images.Length) mirror = new float[batch.Images.Length];
                    MirrorRows(batch.Images, mirror, n * input.Channels * input.Height, input.Width);
                    Tensor mirrored = model.Forward(Tensor.FromArray(mirror, n, input.Channels, input.Height, input.Width));
                    logits = F.Scale(F.Add(logits, mirrored), 0.5f);
                }
                lossSum += F.CrossEntropy(logits, batch.Labels.AsSpan(0, n)).Item() * n;
                correct += CountCorrect(logits, batch.Labels.AsSpan(0, n));
                seen += n;
            }
        }
        model.Train(wasTraining);
        return new Evaluation(lossSum / Math.Max(1, seen), (double)correct / Math.Max(1, seen), (int)seen);
    }

    /// <summary>Copies the first <paramref name="rows"/> rows of <paramref name="width"/> values into
    /// <paramref name="mirrored"/>, each reversed.</summary>
    private static void MirrorRows(float[] images, float[] mirrored, int rows, int width)
    {
        for (int r = 0; r < rows; r++)
        {
            Span<float> row = mirrored.AsSpan(r * width, width);
            images.AsSpan(r * width, width).CopyTo(row);
            row.Reverse();
        }
    }

    /// <summary>Number of rows whose arg-max equals the label.</summary>
    public static long CountCorrect(Tensor logits, ReadOnlySpan<long> labels)
    {
        int c = logits.Dim(1);
        long hits = 0;
        for (int i = 0; i < labels.Length; i++)
            if (System.Numerics.Tensors.TensorPrimitives.IndexOfMax(logits.Span.Slice(i * c, c)) == labels[i]) hits++;
        return hits;
    }
}
