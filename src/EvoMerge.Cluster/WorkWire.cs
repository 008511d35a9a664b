using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EvoMerge.Candidates;
using EvoMerge.Evolution.Run;

namespace EvoMerge.Cluster;

/// <summary>
/// Work and results as JSON on the wire, in the run folder's JSON style (doubles round-trip exactly), so the core's
/// types need no Orleans attributes. The work key is a hash of the work's content without its batch-local key.
/// </summary>
public static class WorkWire
{
    public static string Encode(CandidateWork work) => JsonSerializer.Serialize(work with { Key = "" }, RunJson.Options);

    public static CandidateWork DecodeWork(string json) =>
        JsonSerializer.Deserialize<CandidateWork>(json, RunJson.Options) ?? throw new JsonException("null work");

    public static string Encode(CandidateResult result) => JsonSerializer.Serialize(result with { Key = "" }, RunJson.Options);

    public static CandidateResult DecodeResult(string json, string key) =>
        (JsonSerializer.Deserialize<CandidateResult>(json, RunJson.Options) ?? throw new JsonException("null result")) with { Key = key };

    /// <summary>The content key of encoded work: equal work, equal key, in any process.</summary>
    public static string KeyOf(string workJson) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(workJson)))[..32];
}
