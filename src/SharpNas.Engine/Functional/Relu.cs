using System.Numerics.Tensors;
using SharpNas.Engine.Autograd;

namespace SharpNas.Engine.Functional;

public static partial class F
{
    /// <summary>max(x, 0). The gradient at exactly 0 is 0, as in PyTorch.</summary>
    public static Tensor Relu(Tensor x)
    {
        Tensor y = Tensor.Empty(x.ShapeArray);
        TensorPrimitives.Max(x.Span, 0f, y.Span);
        return GradMode.ShouldRecord(x) ? GradMode.Record(y, new ReluNode(), x) : y;
    }

    private sealed class ReluNode : Node
    {
        public override string Op => "Relu";

        public override void Backward(Tensor output, Tensor dy)
        {
            // y > 0 exactly where x > 0, so the output decides which gradients pass.
            ReadOnlySpan<float> y = output.Span, d = dy.Span;
            Span<float> dx = Inputs[0].GradSpanForAccumulation();
            for (int i = 0; i < dx.Length; i++) if (y[i] > 0f) dx[i] += d[i];
        }
    }
}
