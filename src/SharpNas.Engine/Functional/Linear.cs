using SharpNas.Engine.Autograd;
using SharpNas.Engine.Kernels;

namespace SharpNas.Engine.Functional;

public static partial class F
{
    /// <summary>y = x·Wᵀ + b with x [B, in], W [out, in], b [out] or null → [B, out].</summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias)
    {
        if (x.Rank != 2 || weight.Rank != 2 || x.Dim(1) != weight.Dim(1))
            throw new ArgumentException($"Linear: input {x.ShapeString} and weight {weight.ShapeString} do not match (need [B, in] and [out, in])");
        int batch = x.Dim(0), inF = x.Dim(1), outF = weight.Dim(0);
        if (bias is not null && !bias.HasShape([outF]))
            throw new ArgumentException($"Linear: bias {bias.ShapeString} must be [{outF}]");
        Tensor y = Tensor.Empty(batch, outF);
        Span<float> ys = y.Span;
        if (bias is not null)
            for (int i = 0; i < batch; i++) bias.Span.CopyTo(ys.Slice(i * outF, outF));
        KernelSet.Active.Gemm(false, true, batch, outF, inF, x.Span, inF, weight.Span, inF, ys, outF, accumulate: bias is not null);
        if (!GradMode.ShouldRecord(x, weight, bias)) return y;
        return bias is null ? GradMode.Record(y, new LinearNode(), x, weight) : GradMode.Record(y, new LinearNode(), x, weight, bias);
    }

    private sealed class LinearNode : Node
    {
        public override string Op => "Linear";

        public override void Backward(Tensor output, Tensor dy)
        {
            Tensor x = Inputs[0], w = Inputs[1];
            int batch = x.Dim(0), inF = x.Dim(1), outF = w.Dim(0);
            KernelSet k = KernelSet.Active;
            if (x.RequiresGrad) k.Gemm(false, false, batch, inF, outF, dy.Span, outF, w.Span, inF, x.GradSpanForAccumulation(), inF, true);
            if (w.RequiresGrad) k.Gemm(true, false, outF, inF, batch, dy.Span, outF, x.Span, inF, w.GradSpanForAccumulation(), inF, true);
            if (Inputs.Length > 2 && Inputs[2].RequiresGrad) SumPerChannel(dy.Span, batch, outF, 1, Inputs[2].GradSpanForAccumulation());
        }
    }
}
