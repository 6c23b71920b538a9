using SharpNas.Engine.Autograd;

namespace SharpNas.Engine.Functional;

public static partial class F
{
    /// <summary>A view of x with another shape and the same elements in the same order; one dimension may be −1.</summary>
    public static Tensor Reshape(Tensor x, params int[] shape)
    {
        int[] s = (int[])shape.Clone();
        int infer = Array.IndexOf(s, -1);
        if (infer >= 0)
        {
            int known = 1;
            for (int i = 0; i < s.Length; i++) if (i != infer) known *= s[i];
            if (known <= 0 || x.Size % known != 0)
                throw new ArgumentException($"Reshape: cannot reshape {x.ShapeString} to {Tensor.Format(shape)}");
            s[infer] = x.Size / known;
        }
        if (Tensor.ShapeSize(s, "Reshape") != x.Size)
            throw new ArgumentException($"Reshape: {x.ShapeString} has {x.Size} elements, {Tensor.Format(shape)} has {Tensor.ShapeSize(s, "Reshape")}");
        _ = x.Span;   // throws if x's scope has ended
        var y = new Tensor(s, x.Buffer, x.Offset, x.Base ?? x);
        return GradMode.ShouldRecord(x) ? GradMode.Record(y, new ReshapeNode(), x) : y;
    }

    /// <summary>[N, ...] → [N, rest].</summary>
    public static Tensor Flatten(Tensor x) =>
        x.Rank == 0 ? throw new ArgumentException($"Flatten: input needs a batch dimension, got shape {x.ShapeString}") : Reshape(x, x.Dim(0), -1);

    private sealed class ReshapeNode : Node
    {
        public override string Op => "Reshape";
        public override void Backward(Tensor output, Tensor dy) => Inputs[0].AccumulateGrad(dy.Span);
    }
}
