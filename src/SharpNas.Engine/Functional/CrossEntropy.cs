using System.Numerics.Tensors;
using SharpNas.Engine.Autograd;

namespace SharpNas.Engine.Functional;

public static partial class F
{
    /// <summary>log(softmax(x)) along dimension 1 of x [B, C], computed stably (max subtracted).</summary>
    public static Tensor LogSoftmax(Tensor x)
    {
        if (x.Rank != 2) throw new ArgumentException($"LogSoftmax: input must be [B, C], got {x.ShapeString}");
        int b = x.Dim(0), c = x.Dim(1);
        if (c == 0) throw new ArgumentException($"LogSoftmax: input {x.ShapeString} has no classes");
        Tensor y = Tensor.Empty(b, c);
        for (int i = 0; i < b; i++) LogSoftmaxRow(x.Span.Slice(i * c, c), y.Span.Slice(i * c, c));
        return GradMode.ShouldRecord(x) ? GradMode.Record(y, new LogSoftmaxNode(), x) : y;
    }

    private static void LogSoftmaxRow(ReadOnlySpan<float> x, Span<float> y)
    {
        float max = TensorPrimitives.Max(x);
        double sum = 0;
        foreach (float v in x) sum += Math.Exp(v - max);
        float shift = max + (float)Math.Log(sum);
        TensorPrimitives.Subtract(x, shift, y);
    }

    private sealed class LogSoftmaxNode : Node
    {
        public override string Op => "LogSoftmax";

        public override void Backward(Tensor output, Tensor dy)
        {
            // dx = dy − softmax · Σ dy   (per row)
            int b = output.Dim(0), c = output.Dim(1);
            Span<float> dx = Inputs[0].GradSpanForAccumulation();
            for (int i = 0; i < b; i++)
            {
                ReadOnlySpan<float> y = output.Span.Slice(i * c, c), d = dy.Span.Slice(i * c, c);
                float sum = TensorPrimitives.Sum(d);
                for (int j = 0; j < c; j++) dx[i * c + j] += d[j] - MathF.Exp(y[j]) * sum;
            }
        }
    }

    /// <summary>
    /// Mean cross-entropy of logits [B, C] against class indices. With label smoothing ε the target is
    /// (1 − ε)·onehot + ε/C, so a sample's loss is (1 − ε)·(−log p_y) + ε/C·Σ_c(−log p_c). Returns a [1] tensor.
    /// </summary>
    public static Tensor CrossEntropy(Tensor logits, ReadOnlySpan<long> labels, float labelSmoothing = 0f)
    {
        if (logits.Rank != 2) throw new ArgumentException($"CrossEntropy: logits must be [B, C], got {logits.ShapeString}");
        int b = logits.Dim(0), c = logits.Dim(1);
        if (labels.Length != b) throw new ArgumentException($"CrossEntropy: {labels.Length} labels for logits {logits.ShapeString}");
        if (b == 0) throw new ArgumentException("CrossEntropy: empty batch");
        if (labelSmoothing is < 0f or > 1f) throw new ArgumentOutOfRangeException(nameof(labelSmoothing), $"CrossEntropy: label smoothing must be in [0, 1], got {labelSmoothing}");
        for (int i = 0; i < b; i++)
            if ((ulong)labels[i] >= (ulong)c)
                throw new ArgumentOutOfRangeException(nameof(labels), $"CrossEntropy: label {labels[i]} of sample {i} is outside [0, {c})");
        // The gradient (softmax − target)/B is formed here, while the row is at hand.
        Tensor grad = Tensor.Empty(b, c);
        Span<float> logp = c <= 1024 ? stackalloc float[c] : new float[c];
        double total = 0;
        float onTarget = 1f - labelSmoothing, uniform = labelSmoothing / c;
        for (int i = 0; i < b; i++)
        {
            LogSoftmaxRow(logits.Span.Slice(i * c, c), logp);
            int y = (int)labels[i];
            double rowLoss = -onTarget * logp[y];
            if (labelSmoothing != 0f) rowLoss -= uniform * TensorPrimitives.Sum(logp);
            total += rowLoss;
            Span<float> g = grad.Span.Slice(i * c, c);
            for (int j = 0; j < c; j++) g[j] = (MathF.Exp(logp[j]) - uniform - (j == y ? onTarget : 0f)) / b;
        }
        Tensor loss = Tensor.Empty(1);
        loss.Span[0] = (float)(total / b);
        return GradMode.ShouldRecord(logits) ? GradMode.Record(loss, new CrossEntropyNode(grad), logits) : loss;
    }

    private sealed class CrossEntropyNode(Tensor grad) : Node
    {
        public override string Op => "CrossEntropy";

        public override void Backward(Tensor output, Tensor dy)
        {
            Span<float> dx = Inputs[0].GradSpanForAccumulation();
            TensorPrimitives.MultiplyAdd(grad.Span, dy.Span[0], dx, dx);
        }
    }
}
