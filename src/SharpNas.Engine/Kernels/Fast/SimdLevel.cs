using System.Runtime.Intrinsics;

namespace SharpNas.Engine.Kernels;

/// <summary>The instruction width a fast kernel uses. Kernels pick <see cref="SimdLevels.Best"/>; tests force each
/// level to check every path against the reference (a level above the hardware's still runs, in software, slowly).</summary>
internal enum SimdLevel
{
    /// <summary>Scalar code only.</summary>
    Scalar,

    /// <summary>256-bit vectors (AVX2; fused multiply-add where the CPU has FMA).</summary>
    Vector256,

    /// <summary>512-bit vectors (AVX-512F).</summary>
    Vector512,
}

/// <summary>What this machine accelerates.</summary>
internal static class SimdLevels
{
    /// <summary>The widest level the hardware accelerates: <c>Vector512</c>, else <c>Vector256</c>, else <c>Scalar</c>.</summary>
    public static SimdLevel Best =>
        Vector512.IsHardwareAccelerated ? SimdLevel.Vector512
        : Vector256.IsHardwareAccelerated ? SimdLevel.Vector256
        : SimdLevel.Scalar;
}
