using System.CommandLine;
using System.Globalization;
using SharpNas.Cli.Display;
using SharpNas.Data;
using SharpNas.Engine.Optim;
using SharpNas.Search.Genotypes;
using SharpNas.Search.Spaces.StageWise;
using SharpNas.Training;

namespace SharpNas.Cli.Commands;

/// <summary><c>sharpnas train</c>: trains one architecture into a run folder (resumable), then prints and writes its metrics.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "a built-in network: resnet20, resnet32, resnet44, resnet56, resnet110" };
        var arch = new Option<string?>("--arch") { Description = "an architecture file (arch.json from any search)" };
        var data = new Option<string>("--data") { Description = "dataset: builtin, cifar10:DIR, cifar100:DIR, fashion-mnist:DIR, mnist:DIR, npy:DIR", DefaultValueFactory = _ => "builtin" };
        var epochs = new Option<int>("--epochs") { Description = "training epochs", DefaultValueFactory = _ => 30 };
        var batch = new Option<int>("--batch") { Description = "batch size", DefaultValueFactory = _ => 128 };
        var lr = new Option<double>("--lr") { Description = "base learning rate", DefaultValueFactory = _ => 0.1 };
        var schedule = new Option<string>("--schedule") { Description = "cosine, multistep, constant, onecycle (rising to --lr over the first 30%, then falling), or warmupN-<one of them>", DefaultValueFactory = _ => "cosine" };
        var optimizer = new Option<OptimizerKind>("--optimizer") { Description = "sgd (Nesterov), adam or adamw", DefaultValueFactory = _ => OptimizerKind.Sgd };
        var wd = new Option<double>("--weight-decay") { Description = "weight decay", DefaultValueFactory = _ => 5e-4 };
        var smoothing = new Option<float>("--label-smoothing") { Description = "label smoothing ε of the loss (0 = off)", DefaultValueFactory = _ => 0f };
        var cutout = new Option<int>("--cutout") { Description = "side of the cutout square added to the dataset's default augmentation (0 = off; 16 is usual on CIFAR)", DefaultValueFactory = _ => 0 };
        var valSize = new Option<string>("--val-size") { Description = "validation images carved from the training set (count or fraction)", DefaultValueFactory = _ => "0" };
        var seed = new Option<ulong>("--seed") { Description = "the run's seed", DefaultValueFactory = _ => 0UL };
        var threads = new Option<int?>("--threads") { Description = "worker threads (default: all cores, or SHARPNAS_THREADS)" };
        var outDir = new Option<string?>("--out") { Description = "run folder (default runs/train-MODEL-sSEED); rerunning on it resumes" };
        var latencyRuns = new Option<int>("--latency-runs") { Description = "repetitions for the latency medians (0 = skip)", DefaultValueFactory = _ => 5 };
        var power = new Option<double>("--power-watts") { Description = "power draw for the energy estimate", DefaultValueFactory = _ => Training.Cost.CarbonEstimate.DefaultPowerWatts };
        var grid = new Option<double>("--grid-intensity") { Description = "kg CO2eq per kWh", DefaultValueFactory = _ => Training.Cost.CarbonEstimate.DefaultGridKgPerKwh };
        var cmd = new Command("train", "train one network and report its accuracy and cost")
        {
            model, arch, data, epochs, batch, lr, schedule, optimizer, wd, smoothing, cutout, valSize, seed, threads, outDir, latencyRuns, power, grid,
        };
        cmd.SetAction(p => CommandRunner.Run(cancel =>
        {
            ThreadSettings.Apply(p.GetValue(threads));
            IArchitecture architecture = ResolveArchitecture(p.GetValue(model), p.GetValue(arch));
            DataSpec spec = DataSpec.Parse(p.GetValue(data)!);
            DatasetPair pair = spec.Load();
            ValidationSize vs = ValidationSize.Parse(p.GetValue(valSize)!);
            ulong runSeed = p.GetValue(seed);
            TrainingData trainingData = vs.Resolve(pair.Train.Count) > 0
                ? Split(pair, vs, runSeed)
                : new TrainingData(pair.Train, null, pair.Test);
            int epochCount = p.GetValue(epochs);
            var options = new TrainerOptions
            {
                Epochs = epochCount,
                BatchSize = p.GetValue(batch),
                LearningRate = p.GetValue(lr),
                Schedule = LrSchedule.Parse(p.GetValue(schedule)!, epochCount),
                Optimizer = p.GetValue(optimizer),
                WeightDecay = p.GetValue(wd),
                LabelSmoothing = p.GetValue(smoothing),
                Augmentation = p.GetValue(cutout) is int side and not 0 ? AugmentationOptions.DefaultFor(pair.Train) with { CutoutSize = side } : null,
                Seed = runSeed,
            };
            string name = p.GetValue(model) ?? Path.GetFileNameWithoutExtension(p.GetValue(arch)!);
            string dir = p.GetValue(outDir) ?? Path.Combine("runs", $"train-{name}-s{runSeed.ToString(CultureInfo.InvariantCulture)}");
            var costs = new CostSettings { LatencyRuns = p.GetValue(latencyRuns), Carbon = new(p.GetValue(power), p.GetValue(grid)) };

            Console.WriteLine($"training {architecture.Describe()} on {spec} ({trainingData.Train.Count:N0} train, {trainingData.Validation?.Count ?? 0:N0} validation, {trainingData.Test?.Count ?? 0:N0} test images) → {dir}");
            RunMetrics metrics = TrainingDisplay.Run(options.Epochs, progress =>
                TrainingRun.Execute(architecture, trainingData, spec.ToString(), options, dir, costs, progress, cancel));
            // TrainingRun wrote report.html; the command line is known only here, so the page is written again with it.
            Training.Reports.TrainRunReport.Write(dir, command: "sharpnas " + string.Join(' ', p.Tokens.Select(t => t.Value)));
            TrainingDisplay.Summary(metrics, dir);
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    private static TrainingData Split(DatasetPair pair, ValidationSize size, ulong seed)
    {
        DatasetSplit split = new ValidationSplit(size, seed).Apply(pair.Train);
        return new TrainingData(split.Train, split.Validation, pair.Test);
    }

    /// <summary>The architecture named by --model or read from --arch (exactly one of them).</summary>
    public static IArchitecture ResolveArchitecture(string? model, string? archFile)
    {
        if ((model is null) == (archFile is null)) throw new ArgumentException("give exactly one of --model NAME or --arch FILE.json");
        if (archFile is not null) return ArchitectureJson.Load(archFile);
        string m = model!.Trim().ToLowerInvariant();
        if (m.StartsWith("resnet", StringComparison.Ordinal) && int.TryParse(m.AsSpan(6), NumberStyles.None, CultureInfo.InvariantCulture, out int depth))
            return StageGenotype.ResNet(depth);
        throw new ArgumentException($"--model {model}: unknown model; expected resnet20, resnet32, resnet44, resnet56 or resnet110 (6n+2)");
    }
}

/// <summary>Applies <c>--threads</c> / <c>SHARPNAS_THREADS</c>.</summary>
internal static class ThreadSettings
{
    public static void Apply(int? threads)
    {
        if (threads is null) return;
        if (threads < 1) throw new ArgumentException($"--threads must be at least 1, got {threads}");
        Environment.SetEnvironmentVariable("SHARPNAS_THREADS", threads.Value.ToString(CultureInfo.InvariantCulture));
    }
}
