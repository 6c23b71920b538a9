using System.Numerics.Tensors;
using SharpNas.Engine.Autograd;

namespace SharpNas.Engine.Functional;

public static partial class F
{
    /// <summary>The sum of all elements of x, as a [1] tensor (accumulated in float64).</summary>
    public static Tensor Sum(Tensor x)
    {
        double total = 0;
        foreach (float v in x.Span) total += v;
        Tensor y = Tensor.Empty(1);
        y.Span[0] = (float)total;
        return GradMode.ShouldRecord(x) ? GradMode.Record(y, new SumNode(), x) : y;
    }

    private sealed class SumNode : Node
    {
        public override string Op => "Sum";

        public override void Backward(Tensor output, Tensor dy)
        {
            // dx += dy[0] everywhere.
            Span<float> dx = Inputs[0].GradSpanForAccumulation();
            TensorPrimitives.Add(dx, dy.Span[0], dx);
        }
    }
}
