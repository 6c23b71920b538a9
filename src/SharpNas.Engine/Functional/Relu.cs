using System.Numerics.Tensors;
using SharpNas.Engine.Autograd;
using SharpNas.Engine.Parallel;

namespace SharpNas.Engine.Functional;

public static partial class F
{
    /// <summary>max(x, 0). The gradient at exactly 0 is 0, as in PyTorch.</summary>
    public static Tensor Relu(Tensor x) => Map(x, ReluMap, static () => new ReluNode());

    /// <summary>y = max(x, 0) on spans (x and y may be the same).</summary>
    private static readonly ParallelSpans.SpanMap ReluMap = static (x, y) => TensorPrimitives.Max(x, 0f, y);

    private sealed class ReluNode : Node
    {
        public override string Op => "Relu";

        public override void Backward(Tensor output, Tensor dy)
        {
            // y > 0 exactly where x > 0, so the output decides which gradients pass.
            Span<float> dx = Inputs[0].GradSpanForWrite(out bool fresh);
            ParallelSpans.ReluGradient(dx, dy.Span, output.Span, accumulate: !fresh);
        }
    }
}
