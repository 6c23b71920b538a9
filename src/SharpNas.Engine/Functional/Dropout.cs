using SharpNas.Engine.Autograd;

namespace SharpNas.Engine.Functional;

public static partial class F
{
    /// <summary>Inverted dropout: in training each element is zeroed with probability p and the rest scaled by 1/(1−p);
    /// identity in evaluation or when p = 0.</summary>
    public static Tensor Dropout(Tensor x, float p, bool training, SeededRandom rng)
    {
        if (p is < 0f or >= 1f) throw new ArgumentOutOfRangeException(nameof(p), $"Dropout: probability must be in [0, 1), got {p}");
        if (!training || p == 0f) return x;
        Tensor mask = Tensor.Empty(x.ShapeArray);
        Span<float> m = mask.Span;
        float keep = 1f / (1f - p);
        for (int i = 0; i < m.Length; i++) m[i] = rng.NextFloat() < p ? 0f : keep;
        return MultiplyByMask(x, mask, "Dropout");
    }

    /// <summary>Drop-path (stochastic depth, NASNet's ScheduledDropPath): in training each <b>sample</b> of the batch
    /// is zeroed with probability p and the others scaled by 1/(1−p); identity otherwise.</summary>
    public static Tensor DropPath(Tensor x, float p, bool training, SeededRandom rng)
    {
        if (p is < 0f or >= 1f) throw new ArgumentOutOfRangeException(nameof(p), $"DropPath: probability must be in [0, 1), got {p}");
        if (!training || p == 0f) return x;
        int n = x.Dim(0), inner = n == 0 ? 0 : x.Size / n;
        Tensor mask = Tensor.Empty(x.ShapeArray);
        Span<float> m = mask.Span;
        float keep = 1f / (1f - p);
        for (int i = 0; i < n; i++) m.Slice(i * inner, inner).Fill(rng.NextFloat() < p ? 0f : keep);
        return MultiplyByMask(x, mask, "DropPath");
    }

    private static Tensor MultiplyByMask(Tensor x, Tensor mask, string op)
    {
        Tensor y = Tensor.Empty(x.ShapeArray);
        System.Numerics.Tensors.TensorPrimitives.Multiply(x.Span, mask.Span, y.Span);
        return GradMode.ShouldRecord(x) ? GradMode.Record(y, new MaskNode(op, mask), x) : y;
    }

    private sealed class MaskNode(string op, Tensor mask) : Node
    {
        public override string Op => op;

        public override void Backward(Tensor output, Tensor dy)
        {
            Span<float> dx = Inputs[0].GradSpanForAccumulation();
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(dy.Span, mask.Span, dx, dx);
        }
    }
}
