using System.Diagnostics;
using LLama;
using LLama.Common;
using LLama.Native;

namespace EvoMerge.Bench.Runtime;

/// <summary>
/// llama.cpp through LLamaSharp on the same model as GGUF, in its default settings (f16 KV cache, flash attention
/// as llama.cpp decides): all sequences' prompts in one llama_decode, then one llama_decode of one token per
/// sequence per step, greedy choice read from the logits as the runtime's argmax does.
/// </summary>
public sealed class LlamaCppEngine : IDisposable
{
    readonly LLamaWeights weights;
    readonly int threads;
    readonly string path;

    static LlamaCppEngine() => NativeLogConfig.llama_log_set((level, message) =>
    {
        if (level == LLamaLogLevel.Error) Console.Error.Write(message);
    });

    public LlamaCppEngine(string ggufPath, int threads)
    {
        path = ggufPath;
        this.threads = threads;
        weights = LLamaWeights.LoadFromFile(new ModelParams(ggufPath) { GpuLayerCount = 0 });
    }

    public Throughput Run(ThroughputCase c, int seed)
    {
        int perSequence = c.Prompt + c.Decode;
        var parameters = new ModelParams(path)
        {
            ContextSize = (uint)(c.Batch * perSequence),
            SeqMax = (uint)c.Batch,
            BatchSize = (uint)(c.Batch * c.Prompt),
            Threads = threads,
            BatchThreads = threads,
            GpuLayerCount = 0,
        };
        using var context = weights.CreateContext(parameters);
        var rng = new Random(seed);
        var batch = new LLamaBatch();
        for (int s = 0; s < c.Batch; s++)
            for (int i = 0; i < c.Prompt; i++)
                batch.Add(rng.Next(3, weights.Vocab.Count), i, (LLamaSeqId)s, logits: i == c.Prompt - 1);

        var clock = Stopwatch.StartNew();
        Check(context.Decode(batch));
        var next = Greedy(context, Enumerable.Range(0, c.Batch).Select(s => s * c.Prompt + c.Prompt - 1));
        double prefill = clock.Elapsed.TotalSeconds;
        clock.Restart();
        for (int step = 0; step < c.Decode; step++)
        {
            batch.Clear();
            for (int s = 0; s < c.Batch; s++) batch.Add(next[s], c.Prompt + step, (LLamaSeqId)s, logits: true);
            Check(context.Decode(batch));
            next = Greedy(context, Enumerable.Range(0, c.Batch));
        }
        double decode = clock.Elapsed.TotalSeconds;
        return new(c.Batch * c.Prompt / prefill, c.Batch * c.Decode / decode);
    }

    /// <summary>The argmax token at each of the batch positions <paramref name="withLogits"/>.</summary>
    static int[] Greedy(LLamaContext context, IEnumerable<int> withLogits) => [.. withLogits.Select(i =>
    {
        var logits = context.NativeHandle.GetLogitsIth(i);
        int best = 0;
        for (int t = 1; t < logits.Length; t++) if (logits[t] > logits[best]) best = t;
        return best;
    })];

    static void Check(DecodeResult result)
    {
        if (result != DecodeResult.Ok) throw new InvalidOperationException($"llama_decode: {result}");
    }

    public void Dispose() => weights.Dispose();
}
