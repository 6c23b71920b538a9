using System.Numerics.Tensors;
using SharpNas.Engine.Autograd;
using SharpNas.Engine.Kernels;
using SharpNas.Engine.Kernels.Fast;

namespace SharpNas.Engine.Functional;

public static partial class F
{
    /// <summary>max(x, 0). The gradient at exactly 0 is 0, as in PyTorch.</summary>
    public static Tensor Relu(Tensor x) => Map(x, static (x, y) => TensorPrimitives.Max(x, 0f, y), static () => new ReluNode());

    private sealed class ReluNode : Node
    {
        public override string Op => "Relu";

        public override void Backward(Tensor output, Tensor dy)
        {
            // y > 0 exactly where x > 0, so the output decides which gradients pass.
            ReadOnlySpan<float> y = output.Span, d = dy.Span;
            Span<float> dx = Inputs[0].GradSpanForAccumulation();
            unsafe
            {
                fixed (float* pdx = dx, pdy = d, py = y) SimdLoops.ReluGradientAdd(pdx, pdy, py, dx.Length, SimdLevels.Best);
            }
        }
    }
}
