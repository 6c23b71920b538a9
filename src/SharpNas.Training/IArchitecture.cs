using System.Text.Json.Nodes;
using SharpNas.Engine;
using SharpNas.Engine.Modules;
using SharpNas.Training.Cost;

namespace SharpNas.Training;

/// <summary>The shape of a classification problem: image channels and size, number of classes.</summary>
public readonly record struct InputSpec(int Channels, int Height, int Width, int NumClasses)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Channels}×{Height}×{Width} → {NumClasses} classes";
}

/// <summary>
/// An architecture (a genotype): a small immutable description that can build a trainable network, compute its
/// cost without allocating weights, and write itself as JSON (<c>arch.json</c>).
/// </summary>
public interface IArchitecture
{
    /// <summary>The family, written as <c>"kind"</c> in JSON (e.g. <c>resnet</c>, <c>nasnet</c>, <c>epnas-layer</c>).</summary>
    string Kind { get; }

    /// <summary>One line for people, e.g. <c>resnet basic [3, 3, 3] × 16</c>.</summary>
    string Describe();

    /// <summary>The JSON form, including <c>"kind"</c>.</summary>
    JsonObject ToJson();

    /// <summary>Builds the network (parameters zero until initialised or loaded).</summary>
    Module<Tensor, Tensor> Build(InputSpec input);

    /// <summary>Parameters, multiply-accumulates, depth and activation sizes, from the description alone.</summary>
    ArchitectureCost Cost(InputSpec input);
}
