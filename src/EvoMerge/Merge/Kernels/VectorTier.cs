using System.Runtime.Intrinsics;

namespace EvoMerge.Merge.Kernels;

/// <summary>
/// The SIMD width a kernel runs at. Every hot kernel has a 512-, 256- and 128-bit loop and the scalar definition for
/// tails, all giving the same bits; <see cref="VectorTiers.Best"/> picks the widest the CPU accelerates (AVX-512, AVX2
/// or NEON/SSE). The others stay callable on any CPU (software fallback), so tests compare every tier with the scalar one.
/// </summary>
public enum VectorTier
{
    Scalar = 0,
    Vector128 = 128,
    Vector256 = 256,
    Vector512 = 512,
}

public static class VectorTiers
{
    /// <summary>The widest tier this process accelerates (<c>DOTNET_EnableAVX512=0</c>, <c>DOTNET_EnableAVX2=0</c>, <c>DOTNET_EnableHWIntrinsic=0</c> narrow it).</summary>
    public static VectorTier Best { get; } =
        Vector512.IsHardwareAccelerated ? VectorTier.Vector512
        : Vector256.IsHardwareAccelerated ? VectorTier.Vector256
        : Vector128.IsHardwareAccelerated ? VectorTier.Vector128
        : VectorTier.Scalar;

    public static IReadOnlyList<VectorTier> All { get; } = [VectorTier.Scalar, VectorTier.Vector128, VectorTier.Vector256, VectorTier.Vector512];
}
