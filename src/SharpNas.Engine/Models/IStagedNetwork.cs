namespace SharpNas.Engine.Models;

/// <summary>A network built of stages whose outputs the stage-wise search scores.</summary>
public interface IStagedNetwork
{
    /// <summary>The output of each stage (for residual stages: the last residual addition, before its ReLU) from the
    /// last forward pass; valid until the tensors' scope ends.</summary>
    Tensor[] StageFeatures();
}
