using SharpNas.Engine;

namespace SharpNas.Training;

/// <summary>A network that wants more from the trainer than plain cross-entropy: to know how far training has come
/// (e.g. NASNet's ScheduledDropPath) and to add terms to the loss (e.g. an auxiliary head).</summary>
public interface ITrainingHooks
{
    /// <summary>Called before every training step with the fraction of training done, in [0, 1].</summary>
    void SetTrainingProgress(double fraction);

    /// <summary>The training loss of the last forward pass.</summary>
    Tensor TrainingLoss(Tensor logits, ReadOnlySpan<long> labels, float labelSmoothing);
}
