using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace SharpNas.Search.Importance;

/// <summary>The few float64 dense operations the criteria need, on row-major arrays (SIMD through
/// <see cref="TensorPrimitives"/>).</summary>
internal static class DenseOps
{
    /// <summary>G = XᵀX (p×p, row-major, symmetric) for X n×p row-major. Rows are taken four at a time so each
    /// pass over G serves four rank-1 updates.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double[] Gram(ReadOnlySpan<double> x, int n, int p)
    {
        var g = new double[p * p];
        Span<double> gs = g;
        int s = 0;
        for (; s + 4 <= n; s += 4)
        {
            ReadOnlySpan<double> r0 = x.Slice(s * p, p), r1 = x.Slice((s + 1) * p, p);
            ReadOnlySpan<double> r2 = x.Slice((s + 2) * p, p), r3 = x.Slice((s + 3) * p, p);
            for (int i = 0; i < p; i++)
            {
                double a0 = r0[i], a1 = r1[i], a2 = r2[i], a3 = r3[i];
                Span<double> gi = gs.Slice(i * p + i, p - i);
                Rank4(gi, a0, r0[i..], a1, r1[i..], a2, r2[i..], a3, r3[i..]);
            }
        }
        for (; s < n; s++)
        {
            ReadOnlySpan<double> r = x.Slice(s * p, p);
            for (int i = 0; i < p; i++)
                if (r[i] != 0) TensorPrimitives.MultiplyAdd(r[i..], r[i], gs.Slice(i * p + i, p - i), gs.Slice(i * p + i, p - i));
        }
        for (int i = 0; i < p; i++)
            for (int j = 0; j < i; j++)
                g[i * p + j] = g[j * p + i];
        return g;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rank4(Span<double> g, double a0, ReadOnlySpan<double> r0, double a1, ReadOnlySpan<double> r1,
        double a2, ReadOnlySpan<double> r2, double a3, ReadOnlySpan<double> r3)
    {
        int len = g.Length, k = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated && len >= System.Numerics.Vector<double>.Count)
        {
            int w = System.Numerics.Vector<double>.Count;
            var v0 = new System.Numerics.Vector<double>(a0);
            var v1 = new System.Numerics.Vector<double>(a1);
            var v2 = new System.Numerics.Vector<double>(a2);
            var v3 = new System.Numerics.Vector<double>(a3);
            for (; k + w <= len; k += w)
            {
                var acc = new System.Numerics.Vector<double>(g.Slice(k, w));
                acc += v0 * new System.Numerics.Vector<double>(r0.Slice(k, w));
                acc += v1 * new System.Numerics.Vector<double>(r1.Slice(k, w));
                acc += v2 * new System.Numerics.Vector<double>(r2.Slice(k, w));
                acc += v3 * new System.Numerics.Vector<double>(r3.Slice(k, w));
                acc.CopyTo(g.Slice(k, w));
            }
        }
        for (; k < len; k++)
            g[k] += a0 * r0[k] + a1 * r1[k] + a2 * r2[k] + a3 * r3[k];
    }

    /// <summary>y = A v for A rows×cols row-major.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MatVec(ReadOnlySpan<double> a, int rows, int cols, ReadOnlySpan<double> v, Span<double> y)
    {
        for (int i = 0; i < rows; i++) y[i] = TensorPrimitives.Dot(a.Slice(i * cols, cols), v);
    }

    /// <summary>y = Aᵀ v for A rows×cols row-major (y has cols entries).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MatTVec(ReadOnlySpan<double> a, int rows, int cols, ReadOnlySpan<double> v, Span<double> y)
    {
        y.Clear();
        for (int i = 0; i < rows; i++)
            if (v[i] != 0) TensorPrimitives.MultiplyAdd(a.Slice(i * cols, cols), v[i], y, y);
    }

    /// <summary>A −= s·u vᵀ for A rows×cols row-major.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SubtractOuter(Span<double> a, int rows, int cols, double s, ReadOnlySpan<double> u, ReadOnlySpan<double> v)
    {
        for (int i = 0; i < rows; i++)
        {
            double f = -s * u[i];
            if (f != 0) TensorPrimitives.MultiplyAdd(v, f, a.Slice(i * cols, cols), a.Slice(i * cols, cols));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b) => TensorPrimitives.Dot(a, b);
}
