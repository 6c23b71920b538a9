namespace SharpNas.Engine.Kernels.Reference;

/// <summary>
/// The reference matrix product: a plain triple loop, obviously right, kept forever as the oracle that the fast
/// kernels are tested against. Slow by design.
/// </summary>
internal static class ReferenceGemm
{
    /// <summary>
    /// <c>C = op(A)·op(B)</c>, or <c>C += op(A)·op(B)</c> when <paramref name="accumulate"/>, all row-major.
    /// op(A) is m × k: <c>op(A)[i, p] = transA ? a[p·lda + i] : a[i·lda + p]</c>;
    /// op(B) is k × n: <c>op(B)[p, j] = transB ? b[j·ldb + p] : b[p·ldb + j]</c>;
    /// <c>C[i, j] = c[i·ldc + j]</c>. Each dot product is summed in double, in order p = 0..k−1, then rounded once.
    /// </summary>
    public static void Multiply(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = accumulate ? c[i * ldc + j] : 0.0;
                for (int p = 0; p < k; p++)
                {
                    float aip = transA ? a[p * lda + i] : a[i * lda + p];
                    float bpj = transB ? b[j * ldb + p] : b[p * ldb + j];
                    sum += (double)aip * bpj;
                }
                c[i * ldc + j] = (float)sum;
            }
        }
    }
}
