using MathNet.Numerics.LinearAlgebra;

namespace SharpNas.Search.Importance;

/// <summary>
/// The step inf-FS and il-FS share: for a symmetric non-negative p×p matrix A, r = factor/ρ(A),
/// S = (I − rA)⁻¹ − I = Σ_{k≥1} (rA)^k (all paths of every length), and score_i = Σ_j S_ij.
/// Computed without forming the inverse: the row sums of (I − rA)⁻¹ are (I − rA)⁻¹·1, the solution x of
/// (I − rA) x = 1, so score = x − 1. ρ(A) is the largest |eigenvalue| of the symmetric eigen-decomposition.
/// Uses MathNet.Numerics' managed dense EVD and LU (O(p³); meant for up to a few thousand features).
/// </summary>
internal static class InfinitePaths
{
    public static void ValidateFactor(double factor, string name)
    {
        if (!(factor > 0 && factor < 1)) throw new ArgumentOutOfRangeException(name, factor, $"{name} must be in (0, 1)");
    }

    /// <summary>Spectral radius of a symmetric matrix (row-major p×p).</summary>
    public static double SpectralRadius(double[] a, int p)
    {
        Matrix<double> m = Matrix<double>.Build.Dense(p, p, (i, j) => a[i * p + j]);
        var evd = m.Evd(Symmetricity.Symmetric);
        double rho = 0;
        foreach (var e in evd.EigenValues) rho = Math.Max(rho, e.Magnitude);
        return rho;
    }

    /// <summary>Row sums of (I − rA)⁻¹ − I with r = factor/ρ(A); all zero when A is zero.</summary>
    public static double[] RowSums(double[] a, int p, double factor)
    {
        double rho = SpectralRadius(a, p);
        var scores = new double[p];
        if (!(rho > 0)) return scores;
        double r = factor / rho;
        Matrix<double> m = Matrix<double>.Build.Dense(p, p, (i, j) => (i == j ? 1.0 : 0.0) - r * a[i * p + j]);
        Vector<double> x = m.LU().Solve(Vector<double>.Build.Dense(p, 1.0));
        for (int i = 0; i < p; i++) scores[i] = x[i] - 1.0;
        return scores;
    }
}
