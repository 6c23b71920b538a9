using System.Numerics.Tensors;
using SharpNas.Engine.Autograd;

namespace SharpNas.Engine.Functional;

public static partial class F
{
    /// <summary>Element-wise a + b of two tensors of the same shape.</summary>
    public static Tensor Add(Tensor a, Tensor b) => Zip("Add", a, b, TensorPrimitives.Add, static () => new AddNode());

    private sealed class AddNode : Node
    {
        public override string Op => "Add";

        public override void Backward(Tensor output, Tensor dy)
        {
            foreach (Tensor input in Inputs) if (input.RequiresGrad) input.AccumulateGrad(dy.Span);
        }
    }

    /// <summary>Element-wise x · s for a constant s.</summary>
    public static Tensor Scale(Tensor x, float s)
    {
        Tensor y = Tensor.Empty(x.ShapeArray);
        TensorPrimitives.Multiply(x.Span, s, y.Span);
        return GradMode.ShouldRecord(x) ? GradMode.Record(y, new ScaleNode(s), x) : y;
    }

    private sealed class ScaleNode(float s) : Node
    {
        public override string Op => "Scale";

        public override void Backward(Tensor output, Tensor dy)
        {
            Span<float> dx = Inputs[0].GradSpanForAccumulation();
            TensorPrimitives.MultiplyAdd(dy.Span, s, dx, dx);
        }
    }
}
