using System.Text.Json;
using System.Text.Json.Nodes;
using SharpNas.Engine;
using SharpNas.Engine.IO;
using SharpNas.Engine.Optim;
using SharpNas.Search.Spaces.StageWise;
using SharpNas.Search.Strategies.Discrete;
using SharpNas.Search.Strategies.Epnas;
using SharpNas.Search.Trials;
using SharpNas.Tests.Data;
using SharpNas.Tests.Trials;
using SharpNas.Training;

namespace SharpNas.Tests.Cli;

/// <summary><c>--schedule</c> of the search commands reaches every training they run, over that training's own epochs:
/// each trial's recorded learning rate per epoch is compared with the named schedule.</summary>
public sealed class SearchScheduleTests : IDisposable
{
    private readonly TestFolder _folder = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _folder.Dispose();
    }

    private string TinyNpyData() => TinyNpy.Write(Path.Combine(_folder.Path, "data"), train: 60, test: 20);

    private static int Run(params string[] args) => SharpNas.Cli.Program.Main(args);

    /// <summary>The learning rates per epoch recorded in a trained folder's metrics.json.</summary>
    private static double[] RecordedRates(string trialDir) =>
        JsonSerializer.Deserialize<RunMetrics>(File.ReadAllText(Path.Combine(trialDir, "metrics.json")), RunMetrics.JsonOptions)!
            .History.Select(h => h.LearningRate).ToArray();

    /// <summary>The rates <paramref name="schedule"/> gives at the start of each of <paramref name="epochs"/> epochs.</summary>
    private static double[] Expected(string schedule, int epochs, double lr) =>
        Enumerable.Range(0, epochs).Select(e => LrSchedule.Parse(schedule, epochs).At(e, lr)).ToArray();

    private static void AssertRates(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 12);
    }

    /// <summary>Every trial of the store in <paramref name="dir"/> with its recorded rates; artifact folders are relative to
    /// <paramref name="artifactRoot"/> (default: the run folder).</summary>
    private static List<(Trial Trial, double[] Rates)> Trials(string dir, string? artifactRoot = null)
    {
        using var store = new SqliteTrialStore(Path.Combine(dir, "trials.db"));
        return store.All().Select(t => (t, RecordedRates(Path.Combine(artifactRoot ?? dir, t.ArtifactDir!)))).ToList();
    }

    [Fact]
    public void ScheduleByName_FollowsTheEpochsOfEachTraining_AndCosineByNameIdentifiesTheSameRunAsTheDefault()
    {
        var options = new TrainerOptions { Epochs = 10, ScheduleName = "warmup2-cosine" };
        TrainerOptions shorter = options with { Epochs = 4 };
        Assert.Equal(LrSchedule.Parse("warmup2-cosine", 4), shorter.EffectiveSchedule);
        Assert.NotEqual(options.EffectiveSchedule, shorter.EffectiveSchedule);
        Assert.Equal(0.1 / 2, shorter.EffectiveSchedule.At(3, 0.1), 12);   // cosine over the 2 epochs left after warm-up

        // Runs written before the option existed (no name = cosine) keep their fingerprint, so they resume.
        var arch = new StageGenotype(StageModule.Basic, [1, 1, 1], 4);
        Assert.Equal(TrainingRun.Fingerprint(arch, "d", new TrainerOptions { Epochs = 3 }),
            TrainingRun.Fingerprint(arch, "d", new TrainerOptions { Epochs = 3, ScheduleName = "cosine" }));
        Assert.NotEqual(TrainingRun.Fingerprint(arch, "d", new TrainerOptions { Epochs = 3 }),
            TrainingRun.Fingerprint(arch, "d", new TrainerOptions { Epochs = 3, ScheduleName = "multistep" }));
        Assert.Throws<FormatException>(() => new TrainerOptions { ScheduleName = "warmup-cosine" }.Validate());
    }

    [Fact]
    public void StageWise_ScheduleReachesInitialTemporaryCandidateBaselineAndFinalTrainings_OverTheirOwnEpochs()
    {
        string data = TinyNpyData(), dir = Path.Combine(_folder.Path, "sw");
        Assert.Equal(0, Run("search", "stagewise", "--data", data, "--iterations", "1", "--growth", "1", "--epochs", "2", "--final-epochs", "3",
            "--width", "4", "--val-size", "0.2", "--batch", "16", "--schedule", "warmup1-cosine", "--out", dir));
        var trials = Trials(dir);
        Assert.Equal(["baseline", "candidate", "final", "initial", "temporary"], trials.Select(t => t.Trial.Role).Distinct().Order());
        foreach ((Trial t, double[] rates) in trials)
            AssertRates(Expected("warmup1-cosine", t.Role == "final" ? 3 : 2, 0.1), rates);
        // Warm-up starts at a third of the rate; the 3-epoch final training's cosine is over its own 2 epochs after warm-up.
        AssertRates([0.1 / 3, 0.1, 0.05], trials.Single(t => t.Trial.Role == "final").Rates);
    }

    [Fact]
    public void StageWise_DefaultsToTheAuthorsStepDecay_AndFineTuningWithTransferredWeightsUsesTheScheduleOverFinetuneEpochs()
    {
        string data = TinyNpyData();
        var donor = new StageGenotype(StageModule.Basic, [3, 3, 3], 4).Build(new InputSpec(1, 8, 8, 3));
        donor.Initialize(new SeededRandom(5));
        string donorPath = Path.Combine(_folder.Path, "donor.safetensors");
        Safetensors.Save(donorPath, donor.StateDict());

        string plain = Path.Combine(_folder.Path, "plain");
        Assert.Equal(0, Run("search", "stagewise", "--data", data, "--iterations", "1", "--growth", "1", "--epochs", "4", "--baselines", "false",
            "--width", "4", "--val-size", "0.2", "--batch", "16", "--out", plain));
        Assert.All(Trials(plain), t => AssertRates([0.1, 0.1, 0.01, 0.001], t.Rates));   // ×0.1 at 50 % and 75 %

        string tuned = Path.Combine(_folder.Path, "tuned");
        Assert.Equal(0, Run("search", "stagewise", "--data", data, "--iterations", "1", "--growth", "1", "--epochs", "5", "--finetune-epochs", "2",
            "--transfer-from", donorPath, "--baselines", "false", "--width", "4", "--val-size", "0.2", "--batch", "16",
            "--schedule", "warmup1-constant", "--lr", "0.06", "--out", tuned));
        var trials = Trials(tuned);
        Assert.Equal(3, trials.Count);
        Assert.All(trials, t => AssertRates([0.02, 0.06], t.Rates));
    }

    [Fact]
    public void NasNet_ScheduleReachesTheChildren_AndIsStoredInTheSettingsAWorkerBuildsItsTrainerFrom()
    {
        string data = TinyNpyData(), dir = Path.Combine(_folder.Path, "nn");
        Assert.Equal(0, Run("search", "nasnet", "--data", data, "--budget", "1", "--blocks", "2", "--filters", "4", "--strategy", "random",
            "--train-subset", "0", "--val-size", "0.2", "--batch", "16", "--epochs", "2", "--schedule", "warmup1-constant", "--out", dir));
        AssertRates([0.05 / 3, 0.05], Trials(dir, artifactRoot: _folder.Path).Single().Rates);   // NASNet trials: SEARCH/trials/KEY

        using var store = new SqliteTrialStore(Path.Combine(dir, "trials.db"));
        SearchRecord search = store.FindSearch("nn")!;
        Assert.Equal("warmup1-constant", search.Settings["schedule"]!.GetValue<string>());

        // What `sharpnas worker` does with the row: rebuild the evaluator from the stored settings and train a child.
        string root = Path.Combine(_folder.Path, "worker-artifacts");
        (IDiscreteEvaluator evaluator, var space, _) = DiscreteTrialEvaluators.Create(search with { Id = "w" }, root);
        int[] sample = new int[space.Decisions.Count];
        evaluator.Evaluate(sample, CancellationToken.None);
        string key = Path.GetFileName(Directory.GetDirectories(Path.Combine(root, "w", "trials")).Single());
        AssertRates([0.05 / 3, 0.05], RecordedRates(Path.Combine(root, "w", "trials", key)));
    }

    [Fact]
    public void NasNetSettings_WithoutAScheduleReadAsCosine_DefaultSettingsWriteNone_AndABadStoredScheduleIsAnErrorNamingIt()
    {
        var old = JsonNode.Parse("""
            {"data": "builtin", "val_size": "0.1", "train_subset": 3000, "batch": 64, "lr": 0.05, "seed": "0",
             "blocks": 5, "cells": 1, "filters": 8, "epochs": 1, "lease": {"seconds": 60}}
            """)!.AsObject();
        NasNetChildSettings settings = NasNetChildSettings.FromJson(old, "search s");
        Assert.Equal("cosine", settings.Schedule);
        Assert.Equal(new LrSchedule.Cosine(1, 0), settings.Trainer().EffectiveSchedule);
        // Written again, the settings equal what an older version wrote, so a search started by it resumes.
        old.Remove("lease");
        Assert.Equal(old.ToJsonString(), settings.ToJson().ToJsonString());
        Assert.Equal("multistep", NasNetChildSettings.FromJson((settings with { Schedule = "multistep" }).ToJson(), "s").Schedule);

        old["schedule"] = "sometimes";
        var e = Assert.Throws<InvalidDataException>(() => NasNetChildSettings.FromJson(old, "search s"));
        Assert.Contains("search s: settings field \"schedule\"", e.Message);
    }

    [Fact]
    public void Epnas_ScheduleReachesTheChildren_AndThePredictionScheduleLaysItOverItsShorterRun()
    {
        string data = TinyNpyData(), dir = Path.Combine(_folder.Path, "ep");
        Assert.Equal(0, Run("search", "epnas", "--data", data, "--episodes", "1", "--steps", "1", "--branches", "1", "--top-k", "1",
            "--child-epochs", "2", "--schedule", "warmup1-constant", "--train-subset", "0", "--val-size", "0.2", "--batch", "16", "--out", dir));
        var trials = Trials(dir);
        Assert.NotEmpty(trials);
        Assert.All(trials, t => AssertRates([0.05 / 3, 0.05], t.Rates));

        var full = new TrainerOptions { Epochs = 6, BatchSize = 16, LearningRate = 0.05, ScheduleName = "warmup1-cosine" };
        Assert.Equal(LrSchedule.Parse("warmup1-cosine", 3), EpnasPrediction.Schedule(full).EffectiveSchedule);
        Assert.Equal(new LrSchedule.Cosine(3, 0), EpnasPrediction.Schedule(full with { ScheduleName = null }).EffectiveSchedule);
    }

    [Fact]
    public void ABadSchedule_IsAOneLineErrorWithExitCodeTwo_ForEverySearch()
    {
        Assert.Equal(2, Run("search", "stagewise", "--schedule", "sometimes"));
        Assert.Equal(2, Run("search", "nasnet", "--schedule", "warmup0-cosine"));
        Assert.Equal(2, Run("search", "epnas", "--schedule", "warmup-cosine"));
        using var p = new CliProcess(_folder.Path, "search", "stagewise", "--schedule", "warmupx-cosine");
        Assert.Equal(2, p.Wait(TimeSpan.FromMinutes(2)));
        string error = Assert.Single(p.Output.Split('\n'), l => l.StartsWith("! ", StringComparison.Ordinal));
        Assert.Contains("--schedule", error);
        Assert.Contains("warmupx-cosine", error);
    }
}
