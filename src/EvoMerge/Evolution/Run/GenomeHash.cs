using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace EvoMerge.Evolution.Run;

/// <summary>Identity of a genome for the evaluation cache: SHA-256 of its coordinates' exact bits.</summary>
public static class GenomeHash
{
    public static string Of(ReadOnlySpan<double> genome) =>
        Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(genome)))[..32];
}
