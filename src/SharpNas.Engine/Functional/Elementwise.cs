using System.Numerics.Tensors;
using SharpNas.Engine.Autograd;
using SharpNas.Engine.Parallel;

namespace SharpNas.Engine.Functional;

// Element-wise binary ops on two tensors of the same shape (no broadcasting), beside Add and Scale in Add.cs; and the
// forward pass shared by the element-wise ops (Map: one input, Zip: two of the same shape).
public static partial class F
{
    /// <summary>y = <paramref name="map"/>(x) in a new tensor of x's shape, recorded with a node from
    /// <paramref name="node"/> when x needs a gradient.</summary>
    private static Tensor Map(Tensor x, ParallelSpans.SpanMap map, Func<Node> node)
    {
        Tensor y = Tensor.Empty(x.ShapeArray);
        ParallelSpans.Map(x.Span, y.Span, map);
        return GradMode.ShouldRecord(x) ? GradMode.Record(y, node(), x) : y;
    }

    /// <summary>y = <paramref name="zip"/>(a, b) for a and b of the same shape (else an error naming
    /// <paramref name="op"/>), recorded with a node from <paramref name="node"/> when either needs a gradient.</summary>
    private static Tensor Zip(string op, Tensor a, Tensor b, ParallelSpans.SpanZip zip, Func<Node> node)
    {
        if (!a.HasShape(b.Shape)) throw new ArgumentException($"{op}: shapes {a.ShapeString} and {b.ShapeString} differ");
        Tensor y = Tensor.Empty(a.ShapeArray);
        ParallelSpans.Zip(a.Span, b.Span, y.Span, zip);
        return GradMode.ShouldRecord(a, b) ? GradMode.Record(y, node(), a, b) : y;
    }

    /// <summary>Element-wise a − b of two tensors of the same shape.</summary>
    public static Tensor Sub(Tensor a, Tensor b) => Zip("Sub", a, b, TensorPrimitives.Subtract, static () => new SubNode());

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
    public static Tensor Mul(Tensor a, Tensor b) => Zip("Mul", a, b, TensorPrimitives.Multiply, static () => new MulNode());

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
