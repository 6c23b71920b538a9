using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using SharpNas.Data;
using SharpNas.Engine.IO;
using SharpNas.Search.Genotypes;
using SharpNas.Training;

namespace SharpNas.Cli.Commands;

/// <summary><c>sharpnas eval --arch arch.json --weights model.safetensors --data SPEC [--split test|valid]</c>: accuracy,
/// loss and cost of a saved model on a dataset, as a table or (<c>--json</c>) as JSON.</summary>
internal static class EvalCommand
{
    // Readable output (× and µ as themselves, not \u escapes).
    private static readonly JsonSerializerOptions JsonOutput = new(RunMetrics.JsonOptions) { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create()
    {
        var arch = new Option<string?>("--arch") { Description = "the architecture (arch.json of a run or search); default: the one recorded in the weights" };
        var weights = new Option<string>("--weights") { Description = "the trained weights (model.safetensors)", Required = true };
        var data = new Option<string>("--data") { Description = "dataset: builtin, cifar10:DIR, cifar100:DIR, fashion-mnist:DIR, mnist:DIR, npy:DIR", DefaultValueFactory = _ => "builtin" };
        var split = new Option<string>("--split") { Description = "test, or valid (the validation images carved from the training set by --val-size and --seed)", DefaultValueFactory = _ => "test" };
        var valSize = new Option<string>("--val-size") { Description = "with --split valid: the validation size train used (count or fraction)", DefaultValueFactory = _ => "0" };
        var seed = new Option<ulong>("--seed") { Description = "with --split valid: the seed train used", DefaultValueFactory = _ => 0UL };
        var batch = new Option<int>("--batch") { Description = "evaluation batch size (train evaluates with 256)", DefaultValueFactory = _ => 256 };
        var latencyRuns = new Option<int>("--latency-runs") { Description = "repetitions for the latency medians (0 = skip)", DefaultValueFactory = _ => 5 };
        var threads = new Option<int?>("--threads") { Description = "worker threads (default: all cores, or SHARPNAS_THREADS)" };
        var flip = new Option<bool>("--flip-average") { Description = "also run each image mirrored and average the two predictions (test-time augmentation; reported as such)" };
        var json = new Option<bool>("--json") { Description = "print JSON instead of a table" };
        var outFile = new Option<string?>("--out") { Description = "also write the JSON to this file" };
        var cmd = new Command("eval", "evaluate a saved model on a dataset: accuracy, loss, params, MACs, memory, latency")
        {
            arch, weights, data, split, valSize, seed, batch, flip, latencyRuns, threads, json, outFile,
        };
        cmd.SetAction(p => CommandRunner.Run(_ =>
        {
            ThreadSettings.Apply(p.GetValue(threads));
            string weightsPath = p.GetValue(weights)!;
            if (!File.Exists(weightsPath)) throw new FileNotFoundException($"weights file {weightsPath} does not exist", weightsPath);
            string splitName = p.GetValue(split)!.Trim().ToLowerInvariant();
            if (splitName is not ("test" or "valid")) throw new ArgumentException($"--split {splitName}: expected test or valid");
            if (p.GetValue(latencyRuns) < 0) throw new ArgumentException($"--latency-runs must be non-negative, got {p.GetValue(latencyRuns)}");
            IArchitecture architecture = p.GetValue(arch) is string archFile ? ArchitectureJson.Load(archFile) : RecordedArchitecture(weightsPath);

            DataSpec spec = DataSpec.Parse(p.GetValue(data)!);
            DatasetPair pair = spec.Load();
            ImageDataset train = pair.Train, images = pair.Test;
            ValidationSize vs = ValidationSize.Parse(p.GetValue(valSize)!);
            if (vs.Resolve(pair.Train.Count) > 0)
            {
                DatasetSplit carved = new ValidationSplit(vs, p.GetValue(seed)).Apply(pair.Train);
                train = carved.Train;
                if (splitName == "valid") images = carved.Validation;
            }
            else if (splitName == "valid") throw new ArgumentException("--split valid needs --val-size (and --seed) as given to train");

            var input = new InputSpec(images.Channels, images.Height, images.Width, images.ClassCount);
            SavedModel model = SavedModel.Load(architecture, weightsPath, input);
            var costs = new CostSettings { LatencyRuns = p.GetValue(latencyRuns) };
            ModelEvaluationResult r = ModelEvaluation.Run(model, images, train, spec.ToString(), splitName, p.GetValue(batch), costs, p.GetValue(flip));
            string text = JsonSerializer.Serialize(r, JsonOutput);
            if (p.GetValue(json)) Console.WriteLine(text);
            else Print(r);
            if (p.GetValue(outFile) is string path)
            {
                TrainingRun.WriteAtomically(path, text + "\n");
                if (!p.GetValue(json)) Console.WriteLine($"wrote {path}");
            }
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    /// <summary>The architecture a run recorded in its weights' metadata.</summary>
    private static IArchitecture RecordedArchitecture(string weightsPath)
    {
        SafetensorsFile file = Safetensors.Load(weightsPath);
        if (!file.Metadata.TryGetValue("architecture", out string? json))
            throw new ArgumentException($"{weightsPath} records no architecture; give --arch arch.json");
        return ArchitectureJson.Parse(json, weightsPath + " (architecture metadata)");
    }

    private static void Print(ModelEvaluationResult r)
    {
        var table = new Table().AddColumn("metric").AddColumn(new TableColumn("value").RightAligned());
        void Row(string k, string v) => table.AddRow(Markup.Escape(k), Markup.Escape(v));
        Row("architecture", r.Architecture);
        Row("data", $"{r.Data} ({r.Split}, {r.Images:N0} images)");
        string tta = r.FlipAveraged ? " (flip-averaged)" : "";
        Row($"{r.Split} accuracy{tta}", r.Accuracy.ToString("P2", CultureInfo.InvariantCulture));
        Row($"{r.Split} loss{tta}", r.Loss.ToString("F4", CultureInfo.InvariantCulture));
        Row("parameters", r.Parameters.ToString("N0", CultureInfo.InvariantCulture));
        Row("parameters incl. BN statistics", r.ParametersWithBnStatistics.ToString("N0", CultureInfo.InvariantCulture));
        Row("multiply-adds", (r.Macs / 1e6).ToString("F2", CultureInfo.InvariantCulture) + " M");
        Row("depth (conv + dense)", r.Depth.ToString(CultureInfo.InvariantCulture));
        Row($"memory (batch {r.MemoryBatch})", (r.MemoryBytes / 1048576.0).ToString("F1", CultureInfo.InvariantCulture) + " MiB");
        foreach ((string k, double v) in r.LatencyMs) Row("latency " + k.Replace('_', ' '), v.ToString("F2", CultureInfo.InvariantCulture) + " ms");
        Row("normalisation", $"{r.Normalization} ({r.NormalizationSource})");
        AnsiConsole.Write(table);
    }
}
