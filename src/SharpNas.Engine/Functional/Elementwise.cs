using System.Numerics.Tensors;
using SharpNas.Engine.Autograd;

namespace SharpNas.Engine.Functional;

// Element-wise binary ops on two tensors of the same shape (no broadcasting), beside Add and Scale in Add.cs.
public static partial class F
{
    /// <summary>Element-wise a − b of two tensors of the same shape.</summary>
    public static Tensor Sub(Tensor a, Tensor b)
    {
        if (!a.HasShape(b.Shape)) throw new ArgumentException($"Sub: shapes {a.ShapeString} and {b.ShapeString} differ");
        Tensor y = Tensor.Empty(a.ShapeArray);
        TensorPrimitives.Subtract(a.Span, b.Span, y.Span);
        return GradMode.ShouldRecord(a, b) ? GradMode.Record(y, new SubNode(), a, b) : y;
    }

    private sealed class SubNode : Node
    {
        public override string Op => "Sub";

        public override void Backward(Tensor output, Tensor dy)
        {
            // da += dy, db −= dy (a and b may be the same tensor: both contributions land, summing to 0).
            if (Inputs[0].RequiresGrad) Inputs[0].AccumulateGrad(dy.Span);
            if (Inputs[1].RequiresGrad)
            {
                Span<float> db = Inputs[1].GradSpanForAccumulation();
                TensorPrimitives.Subtract(db, dy.Span, db);
            }
        }
    }

    /// <summary>Element-wise (Hadamard) product a ⊙ b of two tensors of the same shape.</summary>
    public static Tensor Mul(Tensor a, Tensor b)
    {
        if (!a.HasShape(b.Shape)) throw new ArgumentException($"Mul: shapes {a.ShapeString} and {b.ShapeString} differ");
        Tensor y = Tensor.Empty(a.ShapeArray);
        TensorPrimitives.Multiply(a.Span, b.Span, y.Span);
        return GradMode.ShouldRecord(a, b) ? GradMode.Record(y, new MulNode(), a, b) : y;
    }

    private sealed class MulNode : Node
    {
        public override string Op => "Mul";

        public override void Backward(Tensor output, Tensor dy)
        {
            // da += dy ⊙ b, db += dy ⊙ a (for Mul(x, x) the two add up to 2·x·dy).
            Tensor a = Inputs[0], b = Inputs[1];
            if (a.RequiresGrad)
            {
                Span<float> da = a.GradSpanForAccumulation();
                TensorPrimitives.MultiplyAdd(dy.Span, b.Span, da, da);
            }
            if (b.RequiresGrad)
            {
                Span<float> db = b.GradSpanForAccumulation();
                TensorPrimitives.MultiplyAdd(dy.Span, a.Span, db, db);
            }
        }
    }
}
