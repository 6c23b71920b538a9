using SharpNas.Data;
using SharpNas.Engine;
using SharpNas.Engine.Autograd;
using SharpNas.Engine.Models;
using SharpNas.Engine.Modules;
using SharpNas.Search.Evaluators;

namespace SharpNas.Search.Importance;

/// <summary>
/// Scores the stages of a trained network as the stage-wise paper does: run the un-augmented training images
/// (all of them, or the first <see cref="SampleSize"/>) through the network in evaluation mode, pool each stage's
/// output to <see cref="PooledSize"/>×<see cref="PooledSize"/>, and take the mean feature importance per stage.
/// </summary>
public sealed class ImportanceStageScorer(ImportanceCriterion criterion, ImportanceOptions? options = null) : IStageScorer
{
    /// <summary>Images used (0 = all).</summary>
    public int SampleSize { get; init; }
    /// <summary>Spatial size each stage output is average-pooled to.</summary>
    public int PooledSize { get; init; } = 4;

    /// <summary>Parses <c>pls</c>, <c>inffs</c>, <c>ilfs</c>.</summary>
    public static ImportanceCriterion ParseCriterion(string text) => text.Trim().ToLowerInvariant() switch
    {
        "pls" or "pls-vip" or "plsvip" => ImportanceCriterion.PlsVip,
        "inffs" or "inf-fs" => ImportanceCriterion.InfFs,
        "ilfs" or "il-fs" => ImportanceCriterion.IlFs,
        _ => throw new ArgumentException($"--criterion {text}: expected pls, inffs or ilfs"),
    };

    /// <inheritdoc/>
    public double[] Score(Module<Tensor, Tensor> model, ImageDataset images, ChannelStatistics normalization)
    {
        if (model is not IStagedNetwork staged)
            throw new ArgumentException($"stage scores need a staged network; {model.GetType().Name} is not one");
        ImageDataset sample = SampleSize > 0 && SampleSize < images.Count
            ? images.Subset(Enumerable.Range(0, SampleSize).ToArray())
            : images;
        bool wasTraining = model.Training;
        model.Eval();
        StageFeatureBuilder[]? builders = null;
        var pool = new TensorPool();
        using (var loader = BatchLoader.ForEvaluation(sample, 256, normalization))
        using (GradMode.NoGrad())
            foreach (Batch b in loader.Evaluation())
            {
                using TensorScope step = pool.BeginStep();
                model.Forward(Tensor.FromArray(b.Images, b.Count, sample.Channels, sample.Height, sample.Width));
                Tensor[] stages = staged.StageFeatures();
                builders ??= stages.Select(_ => new StageFeatureBuilder(PooledSize)).ToArray();
                for (int s = 0; s < stages.Length; s++) builders[s].Append(stages[s]);
            }
        model.Train(wasTraining);
        if (builders is null) throw new ArgumentException($"stage scores: dataset {images.Name} is empty");
        return new StageImportance(criterion, options).Score(builders.Select(b => b.Build()).ToArray(), sample.Labels, sample.ClassCount);
    }
}
