namespace EvoMerge.Bench.Runtime;

/// <summary>One measured workload: <see cref="Batch"/> sequences, a prompt of <see cref="Prompt"/> tokens each,
/// then <see cref="Decode"/> greedy steps.</summary>
public readonly record struct ThroughputCase(int Batch, int Prompt, int Decode);

/// <summary>Tokens per second of one engine on one case: prefill (prompt tokens) and decode (new tokens).</summary>
public readonly record struct Throughput(double PrefillTokensPerSecond, double DecodeTokensPerSecond)
{
    /// <summary>Best of several runs on each axis: on a shared machine the fastest run is the least disturbed.</summary>
    public static Throughput Best(IEnumerable<Throughput> runs) =>
        runs.Aggregate((a, b) => new(Math.Max(a.PrefillTokensPerSecond, b.PrefillTokensPerSecond), Math.Max(a.DecodeTokensPerSecond, b.DecodeTokensPerSecond)));
}
