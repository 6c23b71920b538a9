using System.Numerics.Tensors;
using SharpNas.Engine.Autograd;

namespace SharpNas.Engine.Functional;

// Smooth activations of the EPNAS search space and the LSTM gates, each with PyTorch's forward and derivative.
// Shapes: y has x's shape (CReLU doubles dimension 1). Saved for backward: the output y where the derivative is a
// function of y (sigmoid, tanh, softmax), else the input x (Inputs[0]).
public static partial class F
{
    /// <summary>SELU's α, PyTorch's constant.</summary>
    public const double SeluAlpha = 1.6732632423543772848170429916717;

    /// <summary>SELU's scale, PyTorch's constant.</summary>
    public const double SeluScale = 1.0507009873554804934193349852946;

    // ---- sigmoid ------------------------------------------------------------------------------------

    /// <summary>y = 1/(1 + e^(−x)), element-wise.</summary>
    public static Tensor Sigmoid(Tensor x) => Map(x, TensorPrimitives.Sigmoid, static () => new SigmoidNode());

    private sealed class SigmoidNode : Node
    {
        public override string Op => "Sigmoid";

        public override void Backward(Tensor output, Tensor dy)
        {
            // dx += dy · y · (1 − y)
            ReadOnlySpan<float> y = output.Span, d = dy.Span;
            Span<float> dx = Inputs[0].GradSpanForAccumulation();
            for (int i = 0; i < dx.Length; i++) dx[i] += d[i] * y[i] * (1f - y[i]);
        }
    }

    // ---- tanh ---------------------------------------------------------------------------------------

    /// <summary>y = tanh(x), element-wise.</summary>
    public static Tensor Tanh(Tensor x) => Map(x, TensorPrimitives.Tanh, static () => new TanhNode());

    private sealed class TanhNode : Node
    {
        public override string Op => "Tanh";

        public override void Backward(Tensor output, Tensor dy)
        {
            // dx += dy · (1 − y²)
            ReadOnlySpan<float> y = output.Span, d = dy.Span;
            Span<float> dx = Inputs[0].GradSpanForAccumulation();
            for (int i = 0; i < dx.Length; i++) dx[i] += d[i] * (1f - y[i] * y[i]);
        }
    }

    // ---- ELU and SELU -------------------------------------------------------------------------------

    /// <summary>ELU: y = x for x &gt; 0, α·(eˣ − 1) for x ≤ 0. The derivative at exactly 0 is α (the x ≤ 0
    /// branch, as in PyTorch).</summary>
    public static Tensor Elu(Tensor x, float alpha = 1f) => ScaledElu(x, alpha, 1.0, "Elu");

    /// <summary>SELU: y = scale·x for x &gt; 0, scale·α·(eˣ − 1) for x ≤ 0, with PyTorch's constants
    /// <see cref="SeluAlpha"/> and <see cref="SeluScale"/>. The derivative at exactly 0 is scale·α (the x ≤ 0 branch,
    /// as in PyTorch), not scale.</summary>
    public static Tensor Selu(Tensor x) => ScaledElu(x, SeluAlpha, SeluScale, "Selu");

    private static Tensor ScaledElu(Tensor x, double alpha, double scale, string op)
    {
        Tensor y = Tensor.Empty(x.ShapeArray);
        ReadOnlySpan<float> xs = x.Span;
        Span<float> ys = y.Span;
        // eˣ − 1 in double: float32 would lose the relative accuracy of small negative x to cancellation.
        for (int i = 0; i < ys.Length; i++)
            ys[i] = xs[i] > 0f ? (float)(scale * xs[i]) : (float)(scale * alpha * (Math.Exp(xs[i]) - 1.0));
        return GradMode.ShouldRecord(x) ? GradMode.Record(y, new ScaledEluNode(op, alpha, scale), x) : y;
    }

    private sealed class ScaledEluNode(string op, double alpha, double scale) : Node
    {
        public override string Op => op;

        public override void Backward(Tensor output, Tensor dy)
        {
            // dx += dy · scale for x > 0, dy · scale·α·eˣ for x ≤ 0 (x = 0 takes the second branch, as PyTorch).
            ReadOnlySpan<float> x = Inputs[0].Span, d = dy.Span;
            Span<float> dx = Inputs[0].GradSpanForAccumulation();
            float s = (float)scale;
            for (int i = 0; i < dx.Length; i++)
                dx[i] += x[i] > 0f ? d[i] * s : d[i] * (float)(scale * alpha * Math.Exp(x[i]));
        }
    }

    // ---- SiLU ---------------------------------------------------------------------------------------

    /// <summary>SiLU (swish): y = x·sigmoid(x), element-wise.</summary>
    public static Tensor Silu(Tensor x) => Map(x, static (x, y) =>
    {
        TensorPrimitives.Sigmoid(x, y);
        TensorPrimitives.Multiply(y, x, y);
    }, static () => new SiluNode());

    private sealed class SiluNode : Node
    {
        public override string Op => "Silu";

        public override void Backward(Tensor output, Tensor dy)
        {
            // dx += dy · σ(x)·(1 + x·(1 − σ(x)))
            ReadOnlySpan<float> x = Inputs[0].Span, d = dy.Span;
            Span<float> dx = Inputs[0].GradSpanForAccumulation();
            for (int i = 0; i < dx.Length; i++)
            {
                float s = 1f / (1f + MathF.Exp(-x[i]));
                dx[i] += d[i] * s * (1f + x[i] * (1f - s));
            }
        }
    }

    // ---- CReLU --------------------------------------------------------------------------------------

    /// <summary>CReLU: concat(relu(x), relu(−x)) along dimension 1, x [N, C, ...] → [N, 2C, ...]; channel C + c holds
    /// relu(−x_c). Both halves pass no gradient at exactly 0, as PyTorch's ReLU.</summary>
    public static Tensor CRelu(Tensor x)
    {
        if (x.Rank < 2) throw new ArgumentException($"CRelu: input needs a channel dimension [N, C, ...], got {x.ShapeString}");
        int n = x.Dim(0), block = x.Dim(0) == 0 ? 0 : x.Size / n;   // C·inner elements per sample
        int[] shape = x.ShapeArray;
        shape[1] *= 2;
        Tensor y = Tensor.Empty(shape);
        ReadOnlySpan<float> xs = x.Span;
        Span<float> ys = y.Span;
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<float> src = xs.Slice(i * block, block);
            Span<float> pos = ys.Slice(2 * i * block, block), neg = ys.Slice((2 * i + 1) * block, block);
            TensorPrimitives.Max(src, 0f, pos);
            TensorPrimitives.Negate(src, neg);
            TensorPrimitives.Max(neg, 0f, neg);
        }
        return GradMode.ShouldRecord(x) ? GradMode.Record(y, new CReluNode(n, block), x) : y;
    }

    private sealed class CReluNode(int n, int block) : Node
    {
        public override string Op => "CRelu";

        public override void Backward(Tensor output, Tensor dy)
        {
            // dx += dy_pos · [x > 0] − dy_neg · [x < 0]; at x = 0 neither half contributes.
            ReadOnlySpan<float> x = Inputs[0].Span, d = dy.Span;
            Span<float> dx = Inputs[0].GradSpanForAccumulation();
            for (int i = 0; i < n; i++)
            {
                ReadOnlySpan<float> dPos = d.Slice(2 * i * block, block), dNeg = d.Slice((2 * i + 1) * block, block);
                for (int j = 0; j < block; j++)
                {
                    float v = x[i * block + j];
                    if (v > 0f) dx[i * block + j] += dPos[j];
                    else if (v < 0f) dx[i * block + j] -= dNeg[j];
                }
            }
        }
    }

    // ---- softmax ------------------------------------------------------------------------------------

    /// <summary>softmax along the last dimension of x (any rank ≥ 1), computed stably (row maximum subtracted).</summary>
    public static Tensor Softmax(Tensor x)
    {
        if (x.Rank == 0) throw new ArgumentException($"Softmax: input needs at least one dimension, got {x.ShapeString}");
        int c = x.Dim(-1);
        if (c == 0) throw new ArgumentException($"Softmax: input {x.ShapeString} has an empty last dimension");
        int rows = x.Size / c;
        Tensor y = Tensor.Empty(x.ShapeArray);
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> xr = x.Span.Slice(r * c, c);
            Span<float> yr = y.Span.Slice(r * c, c);
            TensorPrimitives.Subtract(xr, TensorPrimitives.Max(xr), yr);
            TensorPrimitives.Exp(yr, yr);
            TensorPrimitives.Divide(yr, TensorPrimitives.Sum(yr), yr);
        }
        return GradMode.ShouldRecord(x) ? GradMode.Record(y, new SoftmaxNode(rows, c), x) : y;
    }

    private sealed class SoftmaxNode(int rows, int c) : Node
    {
        public override string Op => "Softmax";

        public override void Backward(Tensor output, Tensor dy)
        {
            // dx += y ⊙ (dy − Σ dy ⊙ y)   (per row)
            Span<float> dx = Inputs[0].GradSpanForAccumulation();
            for (int r = 0; r < rows; r++)
            {
                ReadOnlySpan<float> y = output.Span.Slice(r * c, c), d = dy.Span.Slice(r * c, c);
                float dot = TensorPrimitives.Dot(y, d);
                Span<float> g = dx.Slice(r * c, c);
                for (int j = 0; j < c; j++) g[j] += y[j] * (d[j] - dot);
            }
        }
    }
}
