using SharpNas.Data;
using SharpNas.Engine;
using SharpNas.Engine.IO;
using SharpNas.Search.Spaces.StageWise;
using SharpNas.Training;
using SharpNas.Training.Checkpoints;

namespace SharpNas.Tests.Training;

public sealed class TrainerTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "sharpnas-trainer-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    private static readonly StageGenotype Tiny = new(StageModule.Basic, [1, 1], Width: 4);

    private static TrainingData Data() => new(TinyData.Make(48), TinyData.Make(12, seed: 2), TinyData.Make(12, seed: 3));

    private static TrainerOptions Options(int epochs = 3) => new()
    {
        Epochs = epochs, BatchSize = 16, LearningRate = 0.05, Seed = 7, Augmentation = AugmentationOptions.Grayscale,
    };

    [Fact]
    public void TrainingLearnsAnEasyProblem()
    {
        var data = new TrainingData(TinyData.Make(192), null, TinyData.Make(30, seed: 3));
        var trainer = new Trainer(Tiny.Build(data.Input), data, Options(epochs: 12) with { LearningRate = 0.1 });
        TrainingResult r = trainer.Run();
        Assert.Equal(12, r.History.Count);
        Assert.True(r.Last.TrainLoss < r.History[0].TrainLoss, $"loss went from {r.History[0].TrainLoss} to {r.Last.TrainLoss}");
        Assert.True(r.Test!.Accuracy > 0.8, $"test accuracy {r.Test.Accuracy}; " + string.Join(" | ", r.History));
    }

    [Fact]
    public void SameSeedGivesTheSameWeights()
    {
        TrainingData data = Data();
        float[] a = TrainAndFlatten(data, Options(epochs: 1)), b = TrainAndFlatten(data, Options(epochs: 1));
        Assert.Equal(a, b);
        float[] c = TrainAndFlatten(data, Options(epochs: 1) with { Seed = 8 });
        Assert.NotEqual(a, c);
    }

    private static float[] TrainAndFlatten(TrainingData data, TrainerOptions options)
    {
        var model = Tiny.Build(data.Input);
        new Trainer(model, data, options).Run();
        return model.StateDict().SelectMany(t => t.Tensor.ToArray()).ToArray();
    }

    [Fact]
    public void ResumingAfterAnInterruptionEqualsAnUninterruptedRun()
    {
        TrainingData data = Data();
        float[] expected = TrainAndFlatten(data, Options());

        string cp = Path.Combine(_dir, Checkpoint.FileName);
        Directory.CreateDirectory(_dir);
        // Interrupt in the middle of epoch 2 (after 5 of its 3-per-epoch batches overall).
        using (var cancel = new CancellationTokenSource())
        {
            var model = Tiny.Build(data.Input);
            var trainer = new Trainer(model, data, Options(), cp, "fp");
            int batches = 0;
            trainer.Progress += _ => { if (++batches == 5) cancel.Cancel(); };
            Assert.Throws<OperationCanceledException>(() => trainer.Run(cancel.Token));
        }
        Assert.True(File.Exists(cp));
        Assert.Equal("1", Safetensors.Load(cp).Metadata["epoch"]);

        var resumedModel = Tiny.Build(data.Input);
        TrainingResult result = new Trainer(resumedModel, data, Options(), cp, "fp").Run();
        Assert.True(result.Resumed);
        Assert.Equal(3, result.History.Count);
        Assert.Equal(expected, resumedModel.StateDict().SelectMany(t => t.Tensor.ToArray()).ToArray());
    }

    [Fact]
    public void ACheckpointOfAnotherRunIsRefused()
    {
        TrainingData data = Data();
        Directory.CreateDirectory(_dir);
        string cp = Path.Combine(_dir, Checkpoint.FileName);
        new Trainer(Tiny.Build(data.Input), data, Options(epochs: 1), cp, "run-a").Run();
        var e = Assert.Throws<InvalidDataException>(() => new Trainer(Tiny.Build(data.Input), data, Options(epochs: 2), cp, "run-b").Run());
        Assert.Contains("another run", e.Message);
    }

    [Fact]
    public void DivergenceStopsWithAClearMessage()
    {
        TrainingData data = Data();
        var e = Assert.Throws<TrainingDivergedException>(() =>
            new Trainer(Tiny.Build(data.Input), data, Options(epochs: 2) with { LearningRate = 1e30 }).Run());
        Assert.Contains("diverged", e.Message);
    }

    [Fact]
    public void TrainingRunWritesMetricsModelAndArchitecture()
    {
        TrainingData data = Data();
        RunMetrics m = TrainingRun.Execute(Tiny, data, "tiny", Options(epochs: 1), _dir, new CostSettings { LatencyRuns = 1, LatencyBatches = [1] });
        Assert.True(File.Exists(Path.Combine(_dir, "metrics.json")));
        Assert.True(File.Exists(Path.Combine(_dir, "arch.json")));
        Assert.False(File.Exists(Path.Combine(_dir, Checkpoint.FileName)));
        var weights = Safetensors.Load(Path.Combine(_dir, "model.safetensors"));
        Assert.Contains(weights.Tensors, t => t.Name == "fc.weight");
        Assert.Equal(Tiny.Cost(data.Input).Parameters, m.Parameters);
        Assert.True(m.LatencyMs["batch_1"] > 0);
        // The thread count the kernels ran with (SHARPNAS_THREADS / --threads), not the machine's core count.
        Assert.Equal(SharpNas.Engine.Parallel.WorkerPool.Default.ThreadCount, m.Threads);
        // Rerunning a finished folder reads the result back instead of training again.
        RunMetrics again = TrainingRun.Execute(Tiny, data, "tiny", Options(epochs: 1), _dir, new CostSettings { LatencyRuns = 1 });
        Assert.Equal(m.TestAccuracy, again.TestAccuracy);
        Assert.Equal(m.TrainSeconds, again.TrainSeconds);
    }
}
