using SharpNas.Engine;
using SharpNas.Engine.Kernels;
using SharpNas.Engine.Kernels.Fast;
using SharpNas.Engine.Kernels.Reference;
using SharpNas.Engine.Parallel;

namespace SharpNas.Tests.Kernels;

public sealed class SgemmTests
{
    // Float32 rounding error of a k-term dot product of values bounded by max|a|·max|b| grows like sqrt(k) for
    // random signs (a few units of float epsilon per term); 32 epsilons per sqrt(k) leaves room for blocking and
    // FMA differences, while a wrong or missing term (of order max|a|·max|b|) is still thousands of times larger.
    private const double ToleranceEpsilons = 32;
    private const double FloatEpsilon = 1.0 / (1 << 23); // spacing of floats at 1 (float.Epsilon is the smallest subnormal)

    // (m, n, k): empty, unit, odd, exact register tiles of each level, and sizes past each level's MC, KC and NC.
    private static readonly (int M, int N, int K)[] Shapes =
    [
        (0, 5, 3), (5, 0, 3), (4, 5, 0), (1, 1, 1), (1, 17, 1), (7, 1, 5), (2, 3, 1),
        (13, 33, 29), (6, 16, 8), (8, 32, 8), (4, 4, 4), (12, 48, 3),
        (31, 47, 300), (130, 20, 7), (3, 1030, 5), (65, 64, 257), (9, 2100, 2), (200, 37, 3),
        (37, 96, 11), (16, 90, 5),   // partial rows / columns that the AVX-512 level keeps on its own tile (below)
    ];

    [Fact]
    public void Vector512_NarrowProducts_TakeThe256BitTile()
    {
        Assert.True(Sgemm.NarrowFitsBetter(16, 16));     // 1×1 conv weight gradient from 16 channels: half of each 8 × 32 tile idle
        Assert.True(Sgemm.NarrowFitsBetter(16, 48));
        Assert.False(Sgemm.NarrowFitsBetter(16, 1024));  // the conv forwards: C as wide as the image
        Assert.False(Sgemm.NarrowFitsBetter(1024, 1024));
        Assert.False(Sgemm.NarrowFitsBetter(37, 96));
        Assert.False(Sgemm.NarrowFitsBetter(16, 90));
    }

    // SimdLevel is internal, so the theory takes its name. Levels above the hardware's run in software (slowly).
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
    public void Multiply_RandomShapesTransposesAndAccumulate_MatchesReference(string levelName, int threads)
    {
        var level = Enum.Parse<SimdLevel>(levelName);
        using var pool = new WorkerPool(threads);
        var rng = new SeededRandom(42).Derive("sgemm/" + level + "/" + threads);
        foreach ((int m, int n, int k) in Shapes)
        {
            foreach (bool transA in new[] { false, true })
            foreach (bool transB in new[] { false, true })
            {
                bool accumulate = rng.NextInt(2) == 1;
                int pad = rng.NextInt(3);
                var p = Problem.Random(rng, transA, transB, m, n, k, pad);
                float[] expected = (float[])p.C.Clone();
                float[] actual = (float[])p.C.Clone();
                ReferenceGemm.Multiply(transA, transB, m, n, k, p.A, p.Lda, p.B, p.Ldb, expected, p.Ldc, accumulate);
                Sgemm.Multiply(transA, transB, m, n, k, p.A, p.Lda, p.B, p.Ldb, actual, p.Ldc, accumulate, pool, level);
                AssertClose(expected, actual, p, $"{level} threads={threads} m={m} n={n} k={k} transA={transA} transB={transB} accumulate={accumulate} pad={pad}");
            }
        }
    }

    [Fact]
    public void Multiply_LargeEnoughToSplitAcrossThreads_MatchesReferenceAlongBothSplits()
    {
        using var pool = new WorkerPool(2);
        var rng = new SeededRandom(7);
        // n-heavy (split along N) and m-heavy (split along M), both above the parallel threshold.
        foreach ((int m, int n, int k) in new[] { (20, 700, 40), (700, 20, 40) })
        {
            var p = Problem.Random(rng, false, false, m, n, k, pad: 1);
            float[] expected = (float[])p.C.Clone();
            float[] actual = (float[])p.C.Clone();
            ReferenceGemm.Multiply(false, false, m, n, k, p.A, p.Lda, p.B, p.Ldb, expected, p.Ldc, accumulate: false);
            Sgemm.Multiply(false, false, m, n, k, p.A, p.Lda, p.B, p.Ldb, actual, p.Ldc, accumulate: false, pool);
            AssertClose(expected, actual, p, $"m={m} n={n} k={k}");
        }
    }

    [Fact]
    public void Multiply_CalledTwiceAndOnOneOrTwoThreads_GivesBitwiseIdenticalResults()
    {
        using var one = new WorkerPool(1);
        using var two = new WorkerPool(2);
        var p = Problem.Random(new SeededRandom(3), false, true, 90, 150, 600, pad: 0);
        float[] first = new float[p.C.Length], second = new float[p.C.Length], single = new float[p.C.Length];
        Sgemm.Multiply(false, true, 90, 150, 600, p.A, p.Lda, p.B, p.Ldb, first, p.Ldc, false, two);
        Sgemm.Multiply(false, true, 90, 150, 600, p.A, p.Lda, p.B, p.Ldb, second, p.Ldc, false, two);
        Sgemm.Multiply(false, true, 90, 150, 600, p.A, p.Lda, p.B, p.Ldb, single, p.Ldc, false, one);
        Assert.Equal(first, second);
        Assert.Equal(first, single);
    }

    [Fact]
    public void Multiply_SteadyState_AllocatesNoManagedBytes()
    {
        using var pool = new WorkerPool(2);
        var p = Problem.Random(new SeededRandom(5), false, false, 64, 300, 200, pad: 0);
        for (int i = 0; i < 3; i++)
            Sgemm.Multiply(false, false, 64, 300, 200, p.A, p.Lda, p.B, p.Ldb, p.C, p.Ldc, false, pool);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++)
            Sgemm.Multiply(false, false, 64, 300, 200, p.A, p.Lda, p.B, p.Ldb, p.C, p.Ldc, false, pool);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Multiply_KIsZeroWithoutAccumulate_ZeroesC()
    {
        float[] c = [1, 2, 3, 4, 5, 6];
        Sgemm.Multiply(false, false, 2, 3, 0, [], 1, [], 3, c, 3, accumulate: false);
        Assert.All(c, x => Assert.Equal(0f, x));
    }

    [Fact]
    public void Multiply_BTooShort_ThrowsNamingBAndSizes()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            Sgemm.Multiply(false, false, 2, 3, 4, new float[8], 4, new float[11], 3, new float[6], 3, accumulate: false));
        Assert.Equal("B", e.ParamName);
        Assert.Contains("expected at least 12", e.Message);
    }

    [Fact]
    public void Multiply_LeadingDimensionBelowRowLength_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            Sgemm.Multiply(false, false, 2, 3, 4, new float[8], 3, new float[12], 3, new float[6], 3, accumulate: false));
        Assert.Equal("lda", e.ParamName);
    }

    private static void AssertClose(float[] expected, float[] actual, Problem p, string what)
    {
        double maxA = MaxAbs(p.A), maxB = MaxAbs(p.B);
        // The initial C (when accumulating) adds its own rounding, relative to its size.
        double tolerance = ToleranceEpsilons * FloatEpsilon * (Math.Sqrt(Math.Max(p.K, 1)) * maxA * maxB + MaxAbs(p.C));
        for (int i = 0; i < expected.Length; i++)
        {
            if (float.IsNaN(expected[i]))
            {
                // Padding of C: the product must leave it alone.
                if (!float.IsNaN(actual[i])) Assert.Fail($"{what}: wrote {actual[i]} into the padding of C at {i}");
                continue;
            }
            double diff = Math.Abs((double)expected[i] - actual[i]);
            if (!(diff <= tolerance))
                Assert.Fail($"{what}: element {i} is {actual[i]}, reference {expected[i]} (|diff| {diff:G3} > tolerance {tolerance:G3})");
        }
    }

    private static double MaxAbs(float[] x)
    {
        double max = 0;
        foreach (float v in x) if (!float.IsNaN(v)) max = Math.Max(max, Math.Abs(v));
        return max;
    }

    /// <summary>Random operands stored with leading dimensions padded by <c>pad</c>; padding holds NaN so that
    /// reading it or writing C's padding shows up.</summary>
    private sealed record Problem(float[] A, int Lda, float[] B, int Ldb, float[] C, int Ldc, int K)
    {
        public static Problem Random(SeededRandom rng, bool transA, bool transB, int m, int n, int k, int pad)
        {
            int aRows = transA ? k : m, aCols = transA ? m : k;
            int bRows = transB ? n : k, bCols = transB ? k : n;
            int lda = aCols + pad, ldb = bCols + pad, ldc = n + pad;
            return new Problem(Fill(rng, aRows, aCols, lda), Math.Max(lda, 1), Fill(rng, bRows, bCols, ldb), Math.Max(ldb, 1),
                Fill(rng, m, n, ldc), Math.Max(ldc, 1), k);
        }

        private static float[] Fill(SeededRandom rng, int rows, int cols, int ld)
        {
            var x = new float[rows * ld];
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < ld; j++)
                    x[r * ld + j] = j < cols ? rng.NextFloat() * 2 - 1 : float.NaN;
            return x;
        }
    }
}
