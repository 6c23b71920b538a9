using SharpNas.Engine;
using SharpNas.Engine.Functional;

namespace SharpNas.Tests.Engine;

/// <summary>Fused ops against the composites they replace: same values and gradients, bit for bit (the fused op
/// performs the same float operations in the same order).</summary>
public sealed class FusedOpTests
{
    [Theory]
    [InlineData(true, false)]
    [InlineData(true, true)]
    [InlineData(false, true)]
    public void BatchNormRelu_EqualsReluOfBatchNorm(bool training, bool inScope)
    {
        const int n = 3, c = 4, h = 5, w = 7;
        var rng = new SeededRandom(5);
        float[] xv = Values(rng, n * c * h * w), gv = Values(rng, c), bv = Values(rng, c), up = Values(rng, n * c * h * w);
        float[][] composite = Run(fused: false), fused = Run(fused: true);
        for (int i = 0; i < composite.Length; i++) Assert.Equal(composite[i], fused[i]);

        float[][] Run(bool fused)
        {
            var pool = new TensorPool();
            using TensorScope? scope = inScope ? pool.BeginStep() : null;
            Tensor x = Tensor.FromValues(xv, n, c, h, w), g = Tensor.FromValues(gv, c), b = Tensor.FromValues(bv, c);
            x.RequiresGrad = g.RequiresGrad = b.RequiresGrad = true;
            Tensor rm = Tensor.FromValues(Values(new SeededRandom(6), c), c), rv = Tensor.Full(1.5f, c);
            Tensor y = fused ? F.BatchNormRelu(x, g, b, rm, rv, training) : F.Relu(F.BatchNorm2d(x, g, b, rm, rv, training));
            y.Backward(Tensor.FromValues(up, n, c, h, w));
            return [y.ToArray(), x.Grad!.ToArray(), g.Grad!.ToArray(), b.Grad!.ToArray(), rm.ToArray(), rv.ToArray()];
        }
    }

    private static float[] Values(SeededRandom rng, int count)
    {
        var v = new float[count];
        for (int i = 0; i < v.Length; i++) v[i] = rng.NextFloat() * 2 - 1;
        return v;
    }
}
