using SharpNas.Engine.Autograd;
using SharpNas.Engine.Kernels;
using SharpNas.Engine.Parallel;

namespace SharpNas.Engine.Functional;

public static partial class F
{
    /// <summary>
    /// Batch normalisation of x [N, C, H, W] (or [N, C]) per channel. Training: normalise with the batch mean and
    /// the <b>biased</b> batch variance, and update the running statistics in place with the <b>unbiased</b> one:
    /// running = (1 − momentum)·running + momentum·batch (PyTorch's convention). Evaluation: use the running
    /// statistics only. γ (<paramref name="weight"/>) and β (<paramref name="bias"/>) are optional (affine = false).
    /// </summary>
    public static Tensor BatchNorm2d(Tensor x, Tensor? weight, Tensor? bias, Tensor? runningMean, Tensor? runningVar,
        bool training, float momentum = 0.1f, float eps = 1e-5f)
    {
        BatchNormTrainNode? unused = null;
        return BatchNorm2dCore(x, weight, bias, runningMean, runningVar, training, momentum, eps, ref unused);
    }

    /// <summary>The op; in training it also hands back, through <paramref name="trainNode"/>, a BN backward node
    /// holding the batch statistics (whether or not it was recorded).</summary>
    private static Tensor BatchNorm2dCore(Tensor x, Tensor? weight, Tensor? bias, Tensor? runningMean, Tensor? runningVar,
        bool training, float momentum, float eps, ref BatchNormTrainNode? trainNode)
    {
        if (x.Rank is not (2 or 4)) throw new ArgumentException($"BatchNorm2d: input must be [N, C, H, W] or [N, C], got {x.ShapeString}");
        int n = x.Dim(0), c = x.Dim(1), hw = x.Rank == 4 ? x.Dim(2) * x.Dim(3) : 1;
        CheckPerChannel(weight, "weight", c, x);
        CheckPerChannel(bias, "bias", c, x);
        CheckPerChannel(runningMean, "running_mean", c, x);
        CheckPerChannel(runningVar, "running_var", c, x);
        Tensor y = Tensor.Empty(x.ShapeArray);
        if (training)
        {
            if (n * hw <= 1) throw new ArgumentException($"BatchNorm2d: training needs more than one value per channel, input {x.ShapeString}");
            Tensor mean = Tensor.Empty(c), invStd = Tensor.Empty(c);
            KernelSet.Active.BatchNormTrainForward(n, c, hw, x.Span, weight is null ? default : weight.Span,
                bias is null ? default : bias.Span, eps, y.Span, mean.Span, invStd.Span);
            if (runningMean is not null && runningVar is not null)
            {
                Span<float> rm = runningMean.Span, rv = runningVar.Span, m = mean.Span, inv = invStd.Span;
                double unbias = (double)(n * hw) / (n * hw - 1);
                for (int ch = 0; ch < c; ch++)
                {
                    double varBiased = 1.0 / ((double)inv[ch] * inv[ch]) - eps;
                    rm[ch] = (1 - momentum) * rm[ch] + momentum * m[ch];
                    rv[ch] = (float)((1 - momentum) * rv[ch] + momentum * varBiased * unbias);
                }
            }
            trainNode = new BatchNormTrainNode(n, c, hw, mean, invStd);
            if (GradMode.ShouldRecord(x, weight, bias)) Record(y, trainNode, x, weight, bias);
            return y;
        }

        if (runningMean is null || runningVar is null)
            throw new ArgumentException("BatchNorm2d: evaluation mode needs running_mean and running_var");
        // Eval: y = x·scale + shift per channel with scale = γ/√(var+eps), shift = β − mean·scale.
        Tensor scale = Tensor.Empty(c), shift = Tensor.Empty(c);
        BatchNormEvalAffine(weight, bias, runningMean, runningVar, eps, scale.Span, shift.Span);
        ReadOnlySpan<float> xs = x.Span;
        Span<float> ys = y.Span;
        for (int i = 0; i < n; i++)
            for (int ch = 0; ch < c; ch++)
            {
                int o = (i * c + ch) * hw;
                System.Numerics.Tensors.TensorPrimitives.Multiply(xs.Slice(o, hw), scale.Span[ch], ys.Slice(o, hw));
                System.Numerics.Tensors.TensorPrimitives.Add(ys.Slice(o, hw), shift.Span[ch], ys.Slice(o, hw));
            }
        scale.ReturnToPool();
        shift.ReturnToPool();
        if (GradMode.ShouldRecord(x, weight, bias))
            Record(y, new BatchNormEvalNode(n, c, hw, runningMean.Clone(), runningVar.Clone(), eps), x, weight, bias);
        return y;
    }

    /// <summary>Evaluation-mode batch norm as y = x·scale + shift: scale = γ/√(var+eps), shift = β − mean·scale.</summary>
    internal static void BatchNormEvalAffine(Tensor? weight, Tensor? bias, Tensor runningMean, Tensor runningVar, float eps,
        Span<float> scale, Span<float> shift)
    {
        for (int ch = 0; ch < scale.Length; ch++)
        {
            double s = (weight?.Span[ch] ?? 1f) / Math.Sqrt(runningVar.Span[ch] + (double)eps);
            scale[ch] = (float)s;
            shift[ch] = (float)((bias?.Span[ch] ?? 0f) - runningMean.Span[ch] * s);
        }
    }

    /// <summary>
    /// <c>Relu(BatchNorm2d(x, …))</c> in one op: the same values and gradients (bit for bit), without keeping the
    /// normalised tensor alive for the step — in training the ReLU is applied in place on the BN output and the
    /// backward masks dy by that output before the BN backward. Evaluation mode is the composite, except that without a
    /// graph the ReLU also runs in place (same values, one buffer instead of two).
    /// </summary>
    public static Tensor BatchNormRelu(Tensor x, Tensor? weight, Tensor? bias, Tensor? runningMean, Tensor? runningVar,
        bool training, float momentum = 0.1f, float eps = 1e-5f)
    {
        bool record = GradMode.ShouldRecord(x, weight, bias);
        if (!training && record) return Relu(BatchNorm2d(x, weight, bias, runningMean, runningVar, training: false, momentum, eps));
        if (!training)
        {
            // Without a graph nothing reads the normalised tensor but the ReLU: apply it in place (the same
            // TensorPrimitives.Max as Relu), so the op needs one activation-sized buffer instead of two.
            Tensor z = BatchNorm2d(x, weight, bias, runningMean, runningVar, training: false, momentum, eps);
            ParallelSpans.Map(z.Span, z.Span, ReluMap);
            return z;
        }
        Tensor y;
        BatchNormTrainNode? bn = null;
        using (GradMode.NoGrad())
        {
            y = BatchNorm2dCore(x, weight, bias, runningMean, runningVar, training: true, momentum, eps, ref bn);
        }
        ParallelSpans.Map(y.Span, y.Span, ReluMap);
        if (record) Record(y, new BatchNormReluTrainNode(bn!), x, weight, bias);
        return y;
    }

    private sealed class BatchNormReluTrainNode(BatchNormTrainNode bn) : Node
    {
        public override string Op => "BatchNormRelu";

        public override void Backward(Tensor output, Tensor dy)
        {
            // The ReLU's backward into a pooled buffer (what the composite's BN-output gradient would hold), then
            // the BN backward from it.
            Tensor dz = Tensor.Empty(output.ShapeArray);
            ParallelSpans.ReluGradient(dz.Span, dy.Span, output.Span, accumulate: false);
            bn.Inputs = Inputs;
            bn.Backward(output, dz);
            dz.ReturnToPool();
        }
    }

    private static void CheckPerChannel(Tensor? t, string what, int c, Tensor x)
    {
        if (t is not null && !t.HasShape([c]))
            throw new ArgumentException($"BatchNorm2d: {what} {t.ShapeString} must be [{c}] for input {x.ShapeString}");
    }

    /// <summary>Records a node whose optional inputs (γ, β) may be null; the node sees them at fixed positions 1, 2.</summary>
    private static void Record(Tensor y, Node node, Tensor x, Tensor? weight, Tensor? bias) =>
        GradMode.Record(y, node, x, weight ?? Placeholder(), bias ?? Placeholder());

    /// <summary>A stand-in for an absent optional input: never requires grad.</summary>
    private static Tensor Placeholder() => Tensor.FromArray([], 0);

    private sealed class BatchNormTrainNode(int n, int c, int hw, Tensor mean, Tensor invStd) : Node
    {
        public override string Op => "BatchNorm2d";

        public override void Backward(Tensor output, Tensor dy)
        {
            Tensor x = Inputs[0], w = Inputs[1], b = Inputs[2];
            KernelSet k = KernelSet.Active;
            bool fresh = false;
            Span<float> dx = x.RequiresGrad ? x.GradSpanForWrite(out fresh) : default;
            Span<float> dw = w.RequiresGrad ? w.GradSpanForAccumulation() : default, db = b.RequiresGrad ? b.GradSpanForAccumulation() : default;
            ReadOnlySpan<float> gamma = w.Size == 0 ? default : w.Span;
            if (fresh) k.BatchNormTrainBackwardStore(n, c, hw, x.Span, dy.Span, gamma, mean.Span, invStd.Span, dx, dw, db);
            else k.BatchNormTrainBackward(n, c, hw, x.Span, dy.Span, gamma, mean.Span, invStd.Span, dx, dw, db);
        }
    }

    private sealed class BatchNormEvalNode(int n, int c, int hw, Tensor runningMean, Tensor runningVar, float eps) : Node
    {
        public override string Op => "BatchNorm2d(eval)";

        public override void Backward(Tensor output, Tensor dy)
        {
            Tensor x = Inputs[0], w = Inputs[1], b = Inputs[2];
            ReadOnlySpan<float> xs = x.Span, d = dy.Span;
            for (int ch = 0; ch < c; ch++)
            {
                double inv = 1.0 / Math.Sqrt(runningVar.Span[ch] + (double)eps), m = runningMean.Span[ch];
                double gamma = w.Size == 0 ? 1 : w.Span[ch], sumDy = 0, sumDyXhat = 0;
                Span<float> dx = x.RequiresGrad ? x.GradSpanForAccumulation() : default;
                for (int i = 0; i < n; i++)
                    for (int p = 0; p < hw; p++)
                    {
                        int k = (i * c + ch) * hw + p;
                        sumDy += d[k];
                        sumDyXhat += d[k] * (xs[k] - m) * inv;
                        if (!dx.IsEmpty) dx[k] += (float)(d[k] * gamma * inv);
                    }
                if (w.RequiresGrad) w.GradSpanForAccumulation()[ch] += (float)sumDyXhat;
                if (b.RequiresGrad) b.GradSpanForAccumulation()[ch] += (float)sumDy;
            }
        }
    }
}
