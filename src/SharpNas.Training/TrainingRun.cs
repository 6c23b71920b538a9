using System.Text.Json;
using System.Text.Json.Nodes;
using SharpNas.Data;
using SharpNas.Engine;
using SharpNas.Engine.IO;
using SharpNas.Engine.Kernels;
using SharpNas.Engine.Modules;
using SharpNas.Training.Checkpoints;
using SharpNas.Training.Cost;
using SharpNas.Training.Reports;

namespace SharpNas.Training;

/// <summary>How a run measures what it costs.</summary>
public sealed record CostSettings
{
    /// <summary>Repetitions for the latency medians (0 skips latency).</summary>
    public int LatencyRuns { get; init; } = 5;
    /// <summary>Batch sizes whose latency is measured.</summary>
    public IReadOnlyList<int> LatencyBatches { get; init; } = [1, 256];
    /// <summary>Power and grid intensity for energy and CO₂eq.</summary>
    public CarbonEstimate Carbon { get; init; } = CarbonEstimate.Default;
}

/// <summary>The metrics of a finished run, as written to <c>metrics.json</c>.</summary>
public sealed record RunMetrics
{
    public required string Architecture { get; init; }
    public required string Data { get; init; }
    public required ulong Seed { get; init; }
    public required int Epochs { get; init; }
    public double? TestAccuracy { get; init; }
    public double? TestLoss { get; init; }
    public double? ValidationAccuracy { get; init; }
    public double? ValidationLoss { get; init; }
    public required double TrainLoss { get; init; }
    public required double TrainAccuracy { get; init; }
    public required long Parameters { get; init; }
    public required long ParametersWithBnStatistics { get; init; }
    public required long Macs { get; init; }
    public required int Depth { get; init; }
    public required long MemoryBytes { get; init; }
    public required int MemoryBatch { get; init; }
    public IReadOnlyDictionary<string, double> LatencyMs { get; init; } = new Dictionary<string, double>();
    public required double TrainSeconds { get; init; }
    public required double EnergyKwh { get; init; }
    public required double Co2Kg { get; init; }
    public required double PowerWatts { get; init; }
    public required double GridKgPerKwh { get; init; }
    public required string Kernels { get; init; }
    public required int Threads { get; init; }
    public required IReadOnlyList<EpochMetrics> History { get; init; }
    public required string Fingerprint { get; init; }
    /// <summary>The per-channel input normalisation the network was trained with (computed from the training images
    /// unless the options gave one). Absent in metrics written before it was recorded.</summary>
    public ChannelStatistics? Normalization { get; init; }

    /// <summary>JSON options used for metrics files (snake_case, indented).</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}

/// <summary>
/// Trains an architecture into a run folder and writes what programs and people read afterwards:
/// <c>arch.json</c>, <c>model.safetensors</c>, <c>metrics.json</c>. The folder holds a checkpoint while the run
/// is in progress; running the same call again resumes it, and on a finished folder returns its metrics.
/// </summary>
public static class TrainingRun
{
    /// <summary>The training itself, in its own method so that the trainer (and its tensor pools) is unreachable once it returns.</summary>
    private static TrainingResult Train(Module<Tensor, Tensor> model, TrainingData data, TrainerOptions options, string checkpoint, string fingerprint,
        IReadOnlyDictionary<string, Tensor>? initialWeights, Action<TrainingProgress>? progress, CancellationToken cancel)
    {
        var trainer = new Trainer(model, data, options, checkpoint, fingerprint, initialWeights);
        if (progress is not null) trainer.Progress += progress;
        return trainer.Run(cancel);
    }

    /// <summary>Runs (or resumes, or reads back) the training of <paramref name="architecture"/> in <paramref name="outDir"/>.</summary>
    public static RunMetrics Execute(IArchitecture architecture, TrainingData data, string dataName, TrainerOptions options, string outDir,
        CostSettings costs, Action<TrainingProgress>? progress = null, CancellationToken cancel = default,
        IReadOnlyDictionary<string, Tensor>? initialWeights = null)
    {
        Directory.CreateDirectory(outDir);
        string fingerprint = Fingerprint(architecture, dataName, options);
        string metricsPath = Path.Combine(outDir, "metrics.json");
        if (File.Exists(metricsPath))
        {
            RunMetrics? done = JsonSerializer.Deserialize<RunMetrics>(File.ReadAllText(metricsPath), RunMetrics.JsonOptions);
            if (done is not null && done.Fingerprint == fingerprint) return done;
            throw new InvalidDataException($"{outDir} already holds a finished run of another configuration; choose another --out folder");
        }
        WriteAtomically(Path.Combine(outDir, "arch.json"), architecture.ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");

        Module<Tensor, Tensor> model = architecture.Build(data.Input);
        TrainingResult result = Train(model, data, options, Path.Combine(outDir, Checkpoint.FileName), fingerprint, initialWeights, progress, cancel);
        TensorPool.ReleaseUnused();   // the trainer's pools are garbage now; the latency runs below need their own

        ArchitectureCost cost = architecture.Cost(data.Input);
        var latency = new Dictionary<string, double>();
        if (costs.LatencyRuns > 0)
            foreach (int b in costs.LatencyBatches)
            {
                latency[$"batch_{b}"] = LatencyMeter.MedianMilliseconds(model, data.Input, b, costs.LatencyRuns);
                TensorPool.ReleaseUnused();
            }
        EpochMetrics last = result.Last;
        // The same statistics the trainer's loaders used (BatchLoader computes them from the training set when not given).
        ChannelStatistics normalization = options.Augmentation?.Normalization ?? ChannelStatistics.Compute(data.Train);
        var metrics = new RunMetrics
        {
            Architecture = architecture.Describe(),
            Data = dataName,
            Seed = options.Seed,
            Epochs = options.Epochs,
            TestAccuracy = result.Test?.Accuracy,
            TestLoss = result.Test?.Loss,
            ValidationAccuracy = result.Validation?.Accuracy,
            ValidationLoss = result.Validation?.Loss,
            TrainLoss = last.TrainLoss,
            TrainAccuracy = last.TrainAccuracy,
            Parameters = cost.Parameters,
            ParametersWithBnStatistics = cost.ParametersWithStatistics,
            Macs = cost.Macs,
            Depth = cost.Depth,
            MemoryBytes = cost.MemoryBytes(options.BatchSize),
            MemoryBatch = options.BatchSize,
            LatencyMs = latency,
            TrainSeconds = result.WallTime.TotalSeconds,
            EnergyKwh = costs.Carbon.EnergyKwh(result.WallTime),
            Co2Kg = costs.Carbon.Co2Kg(result.WallTime),
            PowerWatts = costs.Carbon.PowerWatts,
            GridKgPerKwh = costs.Carbon.GridKgPerKwh,
            Kernels = KernelSet.Active.Name,
            Threads = Engine.Parallel.WorkerPool.Default.ThreadCount,
            History = result.History,
            Fingerprint = fingerprint,
            Normalization = normalization,
        };
        Safetensors.Save(Path.Combine(outDir, "model.safetensors"), model.StateDict(),
            WeightsMetadata.Create(architecture, data.Input, normalization));
        WriteAtomically(metricsPath, JsonSerializer.Serialize(metrics, RunMetrics.JsonOptions) + "\n");
        File.Delete(Path.Combine(outDir, Checkpoint.FileName));
        TrainRunReport.Build(metrics, Path.GetFileName(Path.GetFullPath(outDir).TrimEnd(Path.DirectorySeparatorChar)))
            .Write(Path.Combine(outDir, TrainRunReport.FileName));
        return metrics;
    }

    /// <summary>What identifies a run: the architecture, the data and every option that changes the result.</summary>
    public static string Fingerprint(IArchitecture architecture, string dataName, TrainerOptions options)
    {
        var o = new JsonObject
        {
            ["arch"] = architecture.ToJson(),
            ["data"] = dataName,
            ["options"] = JsonSerializer.SerializeToNode(options with { Schedule = null }),
            ["schedule"] = options.EffectiveSchedule.ToString(),
        };
        return o.ToJsonString();
    }

    /// <summary>Writes a text file through a temporary file and a rename.</summary>
    public static void WriteAtomically(string path, string text) => WriteAtomically(path, System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>Writes a file through a temporary file and a rename.</summary>
    public static void WriteAtomically(string path, byte[] bytes)
    {
        string tmp = path + ".tmp";
        File.WriteAllBytes(tmp, bytes);
        File.Move(tmp, path, overwrite: true);
    }
}
