using System.Numerics.Tensors;
using SharpNas.Engine;
using SharpNas.Engine.Kernels;
using SharpNas.Engine.Kernels.Fast;
using SharpNas.Engine.Parallel;

namespace SharpNas.Tests.Kernels;

/// <summary>
/// The fast kernels against the reference kernels on randomised shapes, at every SIMD level (levels above the
/// hardware's run in software) and with 1 and 2 threads. Backward kernels start from random gradients, so
/// accumulation (+=) is checked too.
/// </summary>
public sealed class FastKernelTests
{
    // Conv and pooling outputs are sums of products. Float32 summation in any order is within (terms·ε)·Σ|terms|
    // of the exact sum, and in practice within a few ε·√terms. The allowance per element is 2e-5 (≈170 ε)
    // times Σ|terms| — obtained by running the reference on |x| and |w| — so reordering passes, while a
    // missing or wrong term (of the order of one |term|, i.e. ≥ 1/terms of Σ|terms|) fails.
    private const double SumTolerance = 2e-5;

    private static readonly ConvCase[] ConvCases =
    [
        new(2, 3, 7, 9, 5, 3, 3, Stride: (1, 1), Pad: (1, 1, 1, 1)),                      // odd sizes
        new(1, 1, 5, 5, 1, 3, 3, Stride: (2, 2), Pad: (1, 1, 1, 1)),                      // 1 channel, stride 2, batch 1
        new(3, 4, 8, 8, 6, 3, 3, Pad: (2, 2, 2, 2), Dilation: (2, 2)),                    // dilation
        new(2, 6, 6, 5, 4, 3, 3, Pad: (1, 1, 1, 1), Groups: 2),                           // groups
        new(2, 1, 6, 6, 3, 3, 3, Pad: (1, 1, 1, 1)),                                      // one input channel, three outputs
        new(2, 5, 9, 7, 5, 3, 3, Pad: (1, 1, 1, 1), Groups: 5),                           // depthwise
        new(2, 3, 11, 10, 6, 5, 5, Stride: (2, 2), Pad: (2, 2, 2, 2), Groups: 3),         // depthwise ×2, stride 2
        new(1, 4, 8, 8, 4, 3, 3, Stride: (2, 2), Pad: (0, 0, 1, 1), Groups: 4),           // depthwise, TF "same" (asymmetric)
        new(2, 3, 10, 10, 3, 3, 3, Pad: (2, 2, 2, 2), Dilation: (2, 2), Groups: 3),       // depthwise, dilation
        new(1, 2, 6, 9, 4, 3, 3, Stride: (1, 2), Pad: (1, 1, 1, 1), Groups: 2),           // depthwise ×2, stride only along W
        new(2, 16, 12, 13, 16, 7, 7, Pad: (3, 3, 3, 3), Groups: 16),                      // depthwise 7×7, long vector runs
        new(3, 8, 5, 7, 12, 1, 1),                                                        // pointwise: straight to GEMM
        new(2, 8, 4, 4, 6, 1, 1, Groups: 2),                                              // grouped pointwise
        new(2, 6, 7, 7, 4, 1, 1, Stride: (2, 2)),                                         // 1×1 stride 2: through im2col
        new(4, 3, 1, 1, 5, 1, 1),                                                         // 1×1 images
        new(2, 3, 1, 1, 4, 3, 3, Pad: (1, 1, 1, 1)),                                      // 3×3 on a 1×1 image
        new(2, 4, 9, 9, 5, 1, 7, Pad: (0, 3, 0, 3)),                                      // 1×7
        new(2, 7, 9, 11, 6, 1, 1),                                                        // pointwise: 99 pixels (a tail of 3), 6 × 7 (partial tiles)
        new(1, 16, 8, 8, 12, 1, 1),                                                       // pointwise: whole 4 × 4 dot-product tiles
        new(2, 4, 9, 9, 5, 7, 1, Pad: (3, 0, 3, 0)),                                      // 7×1
        new(2, 16, 16, 16, 16, 3, 3, Pad: (1, 1, 1, 1)),                                  // ResNet-like, spans several GEMM tiles
        new(5, 3, 8, 8, 2, 3, 3, Stride: (2, 2), Pad: (1, 1, 1, 1)),                      // more samples than threads, odd split
        new(2, 5, 7, 19, 20, 3, 3, Pad: (1, 1, 1, 1)),                                    // panels span output rows (OW 19)
        new(2, 4, 9, 9, 7, 3, 3, Pad: (0, 2, 1, 0)),                                      // asymmetric padding, stride 1
        new(2, 3, 9, 9, 5, 3, 3, Pad: (3, 3, 3, 3)),                                      // padding beyond the reach: no transposed form
        new(2, 6, 10, 9, 4, 3, 3, Stride: (2, 1), Pad: (1, 1, 1, 1), Groups: 2),          // grouped, stride only along H
        new(1, 3, 13, 13, 8, 5, 5, Stride: (2, 2), Pad: (2, 2, 2, 2), Dilation: (1, 2)),  // stride 2 and uneven dilation
        new(2, 32, 8, 8, 64, 3, 3, Pad: (1, 1, 1, 1)),                                    // ResNet stage 3: two rows per panel
        new(2, 8, 6, 20, 12, 3, 3, Pad: (1, 1, 1, 1), Groups: 2),                         // grid kernels: grouped
        new(1, 3, 5, 24, 7, 3, 3, Pad: (1, 1, 1, 1)),                                     // grid kernels: 7 channels, 27 taps
        new(2, 3, 9, 30, 5, 3, 3, Pad: (2, 2, 2, 2), Dilation: (2, 2)),                   // grid kernels: dilation
        new(3, 2, 4, 40, 3, 3, 5, Pad: (1, 0, 1, 4)),                                     // grid kernels: asymmetric, 3×5
        new(2, 4, 6, 6, 5, 3, 3, Pad: (1, 1, 1, 1)),                                      // grid kernels: the 6 × 16 tile, 5 channels
        new(2, 16, 16, 16, 32, 3, 3, Stride: (2, 2), Pad: (1, 1, 1, 1)),                  // grid kernels on phase planes: ResNet's stride 2
        new(1, 3, 9, 31, 6, 3, 3, Stride: (2, 2), Pad: (2, 2, 2, 2), Dilation: (2, 2)),   // phase planes with dilation
        new(2, 2, 11, 22, 4, 3, 3, Stride: (3, 2), Pad: (0, 1, 2, 1)),                    // phase planes: uneven strides, asymmetric padding
        new(2, 3, 7, 9, 6, 3, 3, Pad: (1, 1, 1, 1), Groups: 3),                           // depthwise ×2 at stride 1: gathered backward-input
        new(1, 8, 8, 8, 8, 5, 5, Pad: (2, 2, 2, 2), Groups: 8),                           // depthwise 5×5 on 8×8 (NASNet), run of 92: partial last vector
        new(2, 4, 15, 13, 4, 7, 7, Stride: (2, 2), Pad: (3, 3, 3, 3), Groups: 4),         // depthwise 7×7 stride 2, odd sizes: 49 taps in blocks of 8
        new(1, 2, 20, 37, 2, 3, 3, Pad: (1, 1, 1, 1), Groups: 2),                         // depthwise, long runs: eight and four vectors per pass
        new(1, 2, 9, 11, 4, 3, 3, Pad: (2, 2, 2, 2), Dilation: (2, 2), Groups: 2),        // depthwise ×2, dilation, stride 1
        new(2, 3, 8, 8, 3, 2, 2, Stride: (2, 2), Groups: 3),                              // depthwise 2×2 stride 2: a block of 4 taps
        new(2, 3, 11, 10, 6, 3, 3, Stride: (2, 2), Pad: (2, 1, 1, 2), Dilation: (2, 2), Groups: 3),   // depthwise ×2 on phase planes: dilation 2 leaves three planes untapped
        new(1, 2, 12, 40, 2, 5, 5, Stride: (2, 3), Pad: (2, 2, 2, 2), Groups: 2),         // depthwise, uneven strides: six phase planes
        new(1, 2, 6, 37, 2, 3, 3, Stride: (2, 2), Pad: (1, 1, 1, 1), Groups: 2),          // depthwise stride 2 on wide rows: vector column split, odd width
        new(2, 12, 10, 14, 16, 3, 3, Pad: (1, 1, 1, 1)),                                  // AVX-512 16 × 16 tile: 108 taps, whole tiles
        new(1, 8, 7, 13, 32, 3, 3, Pad: (1, 1, 1, 1)),                                    // 16 × 16 tile: grid of 105, a partial last tile
    ];

    private static readonly PoolCase[] PoolCases =
    [
        new(2, 3, 7, 9, 3, 3, (1, 1), (1, 1, 1, 1)),
        new(2, 3, 8, 8, 3, 3, (2, 2), (1, 1, 1, 1)),
        new(1, 1, 1, 1, 1, 1, (1, 1), (0, 0, 0, 0)),
        new(2, 2, 9, 10, 2, 2, (2, 2), (0, 0, 0, 0)),
        new(1, 4, 5, 5, 3, 3, (2, 2), (0, 0, 1, 1)),
        new(2, 3, 16, 16, 3, 3, (1, 1), (1, 1, 1, 1)),
        new(2, 2, 7, 7, 1, 3, (1, 1), (0, 1, 0, 1)),
        new(1, 2, 9, 8, 3, 3, (1, 2), (1, 1, 1, 1)),
        new(1, 2, 32, 33, 3, 3, (1, 1), (1, 1, 1, 1)),
        new(1, 2, 7, 35, 3, 3, (2, 2), (0, 0, 0, 0)),                                     // stride 2 on wide rows, even left padding
    ];

    private static readonly (int N, int C, int HW, float Offset)[] BatchNormCases =
    [
        (2, 3, 5, 0f), (1, 4, 49, 0f), (7, 1, 1, 0f), (4, 5, 64, 0f), (3, 2, 17, 3f), (5, 3, 1, 0f), (8, 6, 256, -2f),
    ];

    public static TheoryData<string, int> LevelsAndThreads()
    {
        var data = new TheoryData<string, int>();
        foreach (SimdLevel level in Enum.GetValues<SimdLevel>())
            foreach (int threads in new[] { 1, 2 })
                data.Add(level.ToString(), threads);
        return data;
    }

    [Theory]
    [MemberData(nameof(LevelsAndThreads))]
    public void Conv2d_RandomShapes_ForwardAndBothGradientsMatchReference(string levelName, int threads)
    {
        var level = Enum.Parse<SimdLevel>(levelName);
        using var pool = new WorkerPool(threads);
        var fast = new FastKernels(level, pool);
        KernelSet reference = KernelSet.Reference;
        var rng = new SeededRandom(7).Derive($"conv/{level}/{threads}");
        foreach (ConvCase c in ConvCases)
        {
            ConvGeometry g = c.Geometry();
            string what = $"{level} threads={threads} {c}";
            float[] x = Random(rng, g.N * g.Cin * g.H * g.W), w = Random(rng, g.Cout * g.CinPerGroup * g.KH * g.KW);
            float[] bias = Random(rng, g.Cout), dy = Random(rng, g.N * g.Cout * g.OH * g.OW);
            float[] xAbs = Abs(x), wAbs = Abs(w), dyAbs = Abs(dy);

            bool withBias = rng.NextInt(2) == 1;
            float[] expected = new float[dy.Length], actual = new float[dy.Length], bound = new float[dy.Length];
            reference.Conv2dForward(g, x, w, withBias ? bias : default, expected);
            reference.Conv2dForward(g, xAbs, wAbs, withBias ? Abs(bias) : default, bound);
            fast.Conv2dForward(g, x, w, withBias ? bias : default, actual);
            AssertWithin(expected, actual, bound, what + " forward");

            float[] dx0 = Random(rng, x.Length);
            expected = (float[])dx0.Clone(); actual = (float[])dx0.Clone(); bound = Abs(dx0);
            reference.Conv2dBackwardInput(g, dy, w, expected);
            reference.Conv2dBackwardInput(g, dyAbs, wAbs, bound);
            fast.Conv2dBackwardInput(g, dy, w, actual);
            AssertWithin(expected, actual, bound, what + " backward input");
            // Stored into a buffer of garbage: the result is the gradient alone (expected minus the starting values).
            float[] alone = new float[x.Length], stored = new float[x.Length], storedByBase = new float[x.Length];
            reference.Conv2dBackwardInput(g, dy, w, alone);
            Array.Fill(stored, float.NaN);
            Array.Fill(storedByBase, float.NaN);
            fast.Conv2dBackwardInputStore(g, dy, w, stored);
            reference.Conv2dBackwardInputStore(g, dy, w, storedByBase);
            AssertWithin(alone, stored, bound, what + " backward input stored");
            Assert.Equal(alone, storedByBase);

            float[] dw0 = Random(rng, w.Length);
            expected = (float[])dw0.Clone(); actual = (float[])dw0.Clone(); bound = Abs(dw0);
            reference.Conv2dBackwardWeight(g, x, dy, expected);
            reference.Conv2dBackwardWeight(g, xAbs, dyAbs, bound);
            fast.Conv2dBackwardWeight(g, x, dy, actual);
            AssertWithin(expected, actual, bound, what + " backward weight");
        }
    }

    [Theory]
    [MemberData(nameof(LevelsAndThreads))]
    public void Conv2dForwardAffine_EqualsTheConvThenTheAffineStepResidualAndRelu_BitForBit(string levelName, int threads)
    {
        var level = Enum.Parse<SimdLevel>(levelName);
        using var pool = new WorkerPool(threads);
        var fast = new FastKernels(level, pool);
        var rng = new SeededRandom(11).Derive($"affine/{level}/{threads}");
        foreach (ConvCase c in ConvCases)
        {
            ConvGeometry g = c.Geometry();
            float[] x = Random(rng, g.N * g.Cin * g.H * g.W), w = Random(rng, g.Cout * g.CinPerGroup * g.KH * g.KW);
            float[] scale = Random(rng, g.Cout), shift = Random(rng, g.Cout), residual = Random(rng, g.N * g.Cout * g.OH * g.OW);
            foreach ((bool relu, bool withResidual) in new[] { (false, false), (true, false), (false, true), (true, true) })
                foreach (KernelSet kernels in new KernelSet[] { fast, KernelSet.Reference })
                {
                    // The separate steps on this set's own conv: affine, + residual (the sum kept), ReLU.
                    float[] expected = new float[residual.Length], expectedSum = new float[residual.Length];
                    kernels.Conv2dForward(g, x, w, default, expected);
                    int p = g.OH * g.OW;
                    for (int n = 0; n < g.N; n++)
                        for (int co = 0; co < g.Cout; co++)
                        {
                            Span<float> row = expected.AsSpan((n * g.Cout + co) * p, p);
                            KernelSet.ApplyAffine(row, scale[co], shift[co], relu: false);
                            if (withResidual) TensorPrimitives.Add(row, residual.AsSpan((n * g.Cout + co) * p, p), row);
                        }
                    expected.CopyTo(expectedSum, 0);
                    if (relu) TensorPrimitives.Max(expected, 0f, expected);

                    float[] actual = new float[expected.Length], sum = new float[expected.Length];
                    kernels.Conv2dForwardAffine(g, x, w, scale, shift, relu, actual, withResidual ? residual : default, withResidual ? sum : default);
                    string what = $"{kernels.Name} {level} threads={threads} {c} relu={relu} residual={withResidual}";
                    Assert.True(expected.AsSpan().SequenceEqual(actual), what);
                    if (withResidual) Assert.True(expectedSum.AsSpan().SequenceEqual(sum), what + " sum");
                    if (relu) Assert.All(actual, v => Assert.True(v >= 0));
                }
        }
    }

    [Theory]
    [MemberData(nameof(LevelsAndThreads))]
    public void MaxPoolBackward_TiesNaNAndNegativeInfinity_RouteLikeTheReference(string levelName, int threads)
    {
        // Few distinct values make ties common (the first maximum in window order wins), NaN wins at once, and
        // every third plane holds −∞, the second only −∞ (a window of −∞ and padding must still route to a real element).
        var level = Enum.Parse<SimdLevel>(levelName);
        using var pool = new WorkerPool(threads);
        var fast = new FastKernels(level, pool);
        KernelSet reference = KernelSet.Reference;
        var rng = new SeededRandom(9).Derive($"maxpool-ties/{level}/{threads}");
        float[] values = [-1f, 0f, 1f, 2f, float.NaN, 2f, 1f];
        foreach (PoolCase c in PoolCases)
        {
            PoolGeometry g = c.Geometry(includePad: false);
            int plane = g.H * g.W;
            float[] x = new float[g.N * g.C * plane];
            for (int i = 0; i < x.Length; i++) x[i] = values[rng.NextInt(values.Length)];
            for (int p = 0; p < g.N * g.C; p += 3) x[p * plane + rng.NextInt(plane)] = float.NegativeInfinity;
            if (g.N * g.C > 1) Array.Fill(x, float.NegativeInfinity, plane, plane);   // a plane of −∞ only: every window ties with the padding
            float[] dy = Random(rng, g.N * g.C * g.OH * g.OW), dx0 = Random(rng, x.Length);
            float[] expected = (float[])dx0.Clone(), actual = (float[])dx0.Clone();
            reference.MaxPool2dBackward(g, x, dy, expected);
            fast.MaxPool2dBackward(g, x, dy, actual);
            AssertWithin(expected, actual, Abs(dx0).Zip(MaxPoolBound(reference, g, x, Abs(dy)), (a, b) => a + b).ToArray(),
                $"{level} threads={threads} {c} max backward with ties");
        }
    }

    [Theory]
    [MemberData(nameof(LevelsAndThreads))]
    public void Pooling_RandomShapes_MaxAndAverageBothPaddingModesMatchReference(string levelName, int threads)
    {
        var level = Enum.Parse<SimdLevel>(levelName);
        using var pool = new WorkerPool(threads);
        var fast = new FastKernels(level, pool);
        KernelSet reference = KernelSet.Reference;
        var rng = new SeededRandom(8).Derive($"pool/{level}/{threads}");
        foreach (PoolCase c in PoolCases)
        foreach (bool includePad in new[] { true, false })
        {
            PoolGeometry g = c.Geometry(includePad);
            string what = $"{level} threads={threads} {c} countIncludePad={includePad}";
            float[] x = Random(rng, g.N * g.C * g.H * g.W), dy = Random(rng, g.N * g.C * g.OH * g.OW);
            float[] xAbs = Abs(x), dyAbs = Abs(dy);

            float[] expected = new float[dy.Length], actual = new float[dy.Length], bound = new float[dy.Length];
            reference.MaxPool2dForward(g, x, expected);
            fast.MaxPool2dForward(g, x, actual);
            Assert.True(expected.AsSpan().SequenceEqual(actual), what + " max forward differs");   // a maximum is exact

            float[] dx0 = Random(rng, x.Length);
            expected = (float[])dx0.Clone(); actual = (float[])dx0.Clone();
            reference.MaxPool2dBackward(g, x, dy, expected);
            fast.MaxPool2dBackward(g, x, dy, actual);
            AssertWithin(expected, actual, Abs(dx0).Zip(MaxPoolBound(reference, g, x, dyAbs), (a, b) => a + b).ToArray(), what + " max backward");

            expected = new float[dy.Length]; actual = new float[dy.Length];
            reference.AvgPool2dForward(g, x, expected);
            reference.AvgPool2dForward(g, xAbs, bound);
            fast.AvgPool2dForward(g, x, actual);
            AssertWithin(expected, actual, bound, what + " avg forward");

            expected = (float[])dx0.Clone(); actual = (float[])dx0.Clone(); bound = Abs(dx0);
            reference.AvgPool2dBackward(g, dy, expected);
            reference.AvgPool2dBackward(g, dyAbs, bound);
            fast.AvgPool2dBackward(g, dy, actual);
            AssertWithin(expected, actual, bound, what + " avg backward");
        }
    }

    [Theory]
    [MemberData(nameof(LevelsAndThreads))]
    public void BatchNormTrain_RandomShapes_ForwardStatisticsAndGradientsMatchReference(string levelName, int threads)
    {
        var level = Enum.Parse<SimdLevel>(levelName);
        using var pool = new WorkerPool(threads);
        var fast = new FastKernels(level, pool);
        KernelSet reference = KernelSet.Reference;
        var rng = new SeededRandom(9).Derive($"bn/{level}/{threads}");
        foreach ((int n, int c, int hw, float offset) in BatchNormCases)
        foreach (bool affine in new[] { true, false })
        {
            string what = $"{level} threads={threads} n={n} c={c} hw={hw} offset={offset} affine={affine}";
            float[] x = Random(rng, n * c * hw).Select(v => v + offset).ToArray(), dy = Random(rng, x.Length);
            float[] gamma = affine ? Random(rng, c) : [], beta = affine ? Random(rng, c) : [];
            float[] yE = new float[x.Length], yA = new float[x.Length];
            float[] meanE = new float[c], meanA = new float[c], invE = new float[c], invA = new float[c];
            const float eps = 1e-5f;
            reference.BatchNormTrainForward(n, c, hw, x, gamma, beta, eps, yE, meanE, invE);
            fast.BatchNormTrainForward(n, c, hw, x, gamma, beta, eps, yA, meanA, invA);
            // Normalised values are O(1); float32 statistics over ≤ 2,048 values keep them within ~1e-5.
            TensorClose(yE, yA, 1e-4, 1e-4, what + " y");
            TensorClose(meanE, meanA, 1e-5, 1e-5, what + " mean");
            TensorClose(invE, invA, 1e-4, 1e-5, what + " invStd");

            float[] dx0 = Random(rng, x.Length), dg0 = Random(rng, c), db0 = Random(rng, c);
            float[] dxE = (float[])dx0.Clone(), dxA = (float[])dx0.Clone();
            float[] dgE = affine ? (float[])dg0.Clone() : [], dgA = affine ? (float[])dg0.Clone() : [];
            float[] dbE = affine ? (float[])db0.Clone() : [], dbA = affine ? (float[])db0.Clone() : [];
            reference.BatchNormTrainBackward(n, c, hw, x, dy, gamma, meanE, invE, dxE, dgE, dbE);
            fast.BatchNormTrainBackward(n, c, hw, x, dy, gamma, meanE, invE, dxA, dgA, dbA);
            // The input gradient subtracts two batch sums from dy: allow 1e-4 of the largest |dx| for the cancellation.
            double scale = dxE.Max(Math.Abs);
            TensorClose(dxE, dxA, 1e-4, 1e-4 * scale, what + " dx");
            TensorClose(dgE, dgA, 1e-4, 1e-4 * Math.Sqrt(n * hw), what + " dgamma");
            TensorClose(dbE, dbA, 1e-4, 1e-4 * Math.Sqrt(n * hw), what + " dbeta");

            // dx stored into a buffer of garbage: the gradient alone; dγ and dβ still add.
            float[] dxAlone = new float[x.Length], dxStored = new float[x.Length], dxStoredByBase = new float[x.Length];
            reference.BatchNormTrainBackward(n, c, hw, x, dy, gamma, meanE, invE, dxAlone, [], []);
            Array.Fill(dxStored, float.NaN);
            Array.Fill(dxStoredByBase, float.NaN);
            float[] dgS = affine ? (float[])dg0.Clone() : [], dbS = affine ? (float[])db0.Clone() : [];
            fast.BatchNormTrainBackwardStore(n, c, hw, x, dy, gamma, meanE, invE, dxStored, dgS, dbS);
            reference.BatchNormTrainBackwardStore(n, c, hw, x, dy, gamma, meanE, invE, dxStoredByBase, [], []);
            TensorClose(dxAlone, dxStored, 1e-4, 1e-4 * scale, what + " dx stored");
            Assert.Equal(dxAlone, dxStoredByBase);
            TensorClose(dgE, dgS, 1e-4, 1e-4 * Math.Sqrt(n * hw), what + " dgamma with dx stored");
            TensorClose(dbE, dbS, 1e-4, 1e-4 * Math.Sqrt(n * hw), what + " dbeta with dx stored");
        }
    }

    [Fact]
    public void Conv2dBackwardWeight_TwoThreads_IsBitwiseRepeatable()
    {
        using var pool = new WorkerPool(2);
        var fast = new FastKernels(SimdLevels.Best, pool);
        var rng = new SeededRandom(10);
        foreach (ConvCase c in new[] { ConvCases[2], ConvCases[6], ConvCases[18] })
        {
            ConvGeometry g = c.Geometry();
            float[] x = Random(rng, g.N * g.Cin * g.H * g.W), dy = Random(rng, g.N * g.Cout * g.OH * g.OW);
            float[] first = new float[g.Cout * g.CinPerGroup * g.KH * g.KW], second = new float[first.Length];
            fast.Conv2dBackwardWeight(g, x, dy, first);
            fast.Conv2dBackwardWeight(g, x, dy, second);
            Assert.True(first.AsSpan().SequenceEqual(second), $"{c}: two identical calls gave different weight gradients");
        }
    }

    [Fact]
    public void Names_FollowTheSimdLevel()
    {
        using var pool = new WorkerPool(1);
        Assert.Equal("avx512", new FastKernels(SimdLevel.Vector512, pool).Name);
        Assert.Equal("avx2", new FastKernels(SimdLevel.Vector256, pool).Name);
        Assert.Equal("scalar", new FastKernels(SimdLevel.Scalar, pool).Name);
    }

    /// <summary>Per element of dx: Σ|dy| of the windows whose maximum it is (the reference backward on |dy|).</summary>
    private static float[] MaxPoolBound(KernelSet reference, in PoolGeometry g, float[] x, float[] dyAbs)
    {
        var bound = new float[x.Length];
        reference.MaxPool2dBackward(g, x, dyAbs, bound);
        return bound;
    }

    private static void AssertWithin(float[] expected, float[] actual, float[] magnitude, string what)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            double allowed = SumTolerance * magnitude[i] + 1e-6;
            double err = Math.Abs((double)actual[i] - expected[i]);
            if (!(err <= allowed))
                Assert.Fail($"{what}: element {i} is {actual[i]}, expected {expected[i]} (allowed ±{allowed:G3})");
        }
    }

    private static void TensorClose(float[] expected, float[] actual, double rtol, double atol, string what)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            double err = Math.Abs((double)actual[i] - expected[i]), allowed = atol + rtol * Math.Abs(expected[i]);
            if (!(err <= allowed))
                Assert.Fail($"{what}: element {i} is {actual[i]}, expected {expected[i]} (allowed ±{allowed:G3})");
        }
    }

    [Theory]
    [InlineData(nameof(SimdLevel.Scalar))]
    [InlineData(nameof(SimdLevel.Vector256))]
    [InlineData(nameof(SimdLevel.Vector512))]
    public unsafe void ReluGradientLoops_EveryLengthAroundTheVectorWidths_MatchTheScalarFormulas(string levelName)
    {
        SimdLevel level = Enum.Parse<SimdLevel>(levelName);
        var rng = new SeededRandom(11);
        for (int n = 0; n <= 3 * 16 + 1; n++)
        {
            float[] y = Random(rng, n), dy = Random(rng, n), dx = Random(rng, n);
            if (n > 2) { y[1] = 0f; y[2] = float.NaN; }   // the gradient at 0 and at NaN is 0
            float[] added = (float[])dx.Clone(), stored = new float[n];
            for (int i = 0; i < n; i++)
            {
                if (y[i] > 0f) added[i] += dy[i];
                stored[i] = y[i] > 0f ? dy[i] : 0f;
            }
            float[] dxStore = (float[])dx.Clone();   // starts dirty: ReluGradient overwrites it
            fixed (float* pdx = dx, pds = dxStore, pdy = dy, py = y)
            {
                SimdLoops.ReluGradientAdd(pdx, pdy, py, n, level);
                SimdLoops.ReluGradient(pds, pdy, py, n, level);
            }
            Assert.Equal(added, dx);   // the same single addition per element: bit-exact
            Assert.Equal(stored, dxStore);
        }
    }

    private static float[] Random(SeededRandom rng, int count)
    {
        var v = new float[count];
        for (int i = 0; i < v.Length; i++) v[i] = rng.NextFloat() * 2 - 1;
        return v;
    }

    private static float[] Abs(float[] v) => v.Select(Math.Abs).ToArray();

    private sealed record ConvCase(int N, int Cin, int H, int W, int Cout, int KH, int KW,
        (int H, int W)? Stride = null, (int Top, int Left, int Bottom, int Right)? Pad = null, (int H, int W)? Dilation = null, int Groups = 1)
    {
        public ConvGeometry Geometry()
        {
            var s = Stride ?? (1, 1);
            var p = Pad ?? (0, 0, 0, 0);
            var d = Dilation ?? (1, 1);
            return ConvGeometry.Create("test", [N, Cin, H, W], [Cout, Cin / Groups, KH, KW], s.H, s.W, p.Top, p.Left, p.Bottom, p.Right, d.H, d.W, Groups);
        }
    }

    private sealed record PoolCase(int N, int C, int H, int W, int KH, int KW, (int H, int W) Stride, (int Top, int Left, int Bottom, int Right) Pad)
    {
        public PoolGeometry Geometry(bool includePad) =>
            PoolGeometry.Create("test", [N, C, H, W], KH, KW, Stride.H, Stride.W, Pad.Top, Pad.Left, Pad.Bottom, Pad.Right, includePad);
    }
}
