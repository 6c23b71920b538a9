using SharpNas.Data;
using SharpNas.Engine;
using SharpNas.Engine.Modules;

namespace SharpNas.Search.Evaluators;

/// <summary>Scores each stage of a trained staged network by the importance of its output features.</summary>
public interface IStageScorer
{
    /// <summary>One score per stage, from the un-augmented <paramref name="images"/> normalised with <paramref name="normalization"/>.</summary>
    double[] Score(Module<Tensor, Tensor> model, ImageDataset images, ChannelStatistics normalization);
}
