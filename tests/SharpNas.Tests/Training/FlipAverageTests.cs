using SharpNas.Data;
using SharpNas.Engine;
using SharpNas.Engine.Modules;
using SharpNas.Search.Spaces.StageWise;
using SharpNas.Training;

namespace SharpNas.Tests.Training;

/// <summary>Flip test-time augmentation in <see cref="Trainer.Evaluate"/>: each image's logits averaged with its mirror's.</summary>
public sealed class FlipAverageTests
{
    private static readonly StageGenotype Tiny = new(StageModule.Basic, [1, 1], Width: 4);

    /// <summary>The images mirrored left to right (or, with <paramref name="symmetrise"/>, made mirror-symmetric).</summary>
    private static ImageDataset Mirrored(ImageDataset d, bool symmetrise = false)
    {
        byte[] pixels = (byte[])d.Pixels.Clone();
        for (int row = 0; row < pixels.Length / d.Width; row++)
        {
            Span<byte> r = pixels.AsSpan(row * d.Width, d.Width);
            if (!symmetrise) { r.Reverse(); continue; }
            for (int x = 0; x < d.Width / 2; x++) r[d.Width - 1 - x] = r[x];
        }
        return new ImageDataset(d.Name, d.Channels, d.Height, d.Width, d.ClassNames, pixels, d.Labels);
    }

    /// <summary>A network trained for one epoch (an untrained one has a zero classifier, so every logit is 0).</summary>
    private static Module<Tensor, Tensor> Trained(ImageDataset train)
    {
        var data = new TrainingData(train, null, null);
        var model = Tiny.Build(data.Input);
        new Trainer(model, data, new TrainerOptions { Epochs = 1, BatchSize = 10, LearningRate = 0.1, Seed = 3, Augmentation = AugmentationOptions.Grayscale }).Run();
        return model;
    }

    private static Evaluation Evaluate(Module<Tensor, Tensor> model, ImageDataset images, ImageDataset train, bool flip)
    {
        var input = new InputSpec(images.Channels, images.Height, images.Width, images.ClassCount);
        using var loader = BatchLoader.ForEvaluation(images, 7, ChannelStatistics.Compute(train));
        return Trainer.Evaluate(model, loader, input, flipAverage: flip);
    }

    [Fact]
    public void TheAverageIsTheSameForAnImageAndItsMirror()
    {
        ImageDataset images = TinyData.Make(20, seed: 4), train = TinyData.Make(30);
        var m = Trained(train);
        Evaluation plain = Evaluate(m, images, train, false), plainMirror = Evaluate(m, Mirrored(images), train, false);
        Evaluation flip = Evaluate(m, images, train, true), flipMirror = Evaluate(m, Mirrored(images), train, true);
        Assert.NotEqual(plain.Loss, plainMirror.Loss);   // the network is not mirror-invariant …
        Assert.Equal(flip.Loss, flipMirror.Loss, 6);      // … its flip average is
        Assert.Equal(flip.Accuracy, flipMirror.Accuracy);
        Assert.NotEqual(plain.Loss, flip.Loss);
        Assert.Equal(20, flip.Count);
    }

    [Fact]
    public void MirrorSymmetricImagesGiveThePlainResult()
    {
        ImageDataset images = Mirrored(TinyData.Make(20, channels: 3, seed: 5), symmetrise: true), train = TinyData.Make(30, channels: 3);
        var m = Trained(train);
        Evaluation plain = Evaluate(m, images, train, false), flip = Evaluate(m, images, train, true);
        Assert.NotEqual(Math.Log(3), plain.Loss, 3);
        Assert.Equal(plain.Loss, flip.Loss, 6);
        Assert.Equal(plain.Accuracy, flip.Accuracy);
    }
}
