using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using EvoMerge.Candidates;

namespace EvoMerge.Evolution.Run;

/// <summary>
/// Identities for the run: a genome's (resume checks the optimiser asks the journal's genomes again) and a decoded
/// candidate's (the evaluation cache: many DFS genomes decode to the same path, and each is scored once).
/// </summary>
public static class GenomeHash
{
    public static string Of(ReadOnlySpan<double> genome) => Hex(SHA256.HashData(MemoryMarshal.AsBytes(genome)));

    public static string Of(ModelBuild candidate) => Hex(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(candidate, RunJson.Options)));

    static string Hex(byte[] digest) => Convert.ToHexStringLower(digest)[..32];
}
