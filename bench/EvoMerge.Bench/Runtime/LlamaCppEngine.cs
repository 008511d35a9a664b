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

    /// <summary>
    /// Greedy replies of <paramref name="replies"/>[i] tokens to each prompt through <paramref name="slots"/> sequences,
    /// as llama.cpp's server batches: the prompts' shared prefix is decoded once into its own sequence and shared by
    /// every slot's cells (<c>llama_memory_seq_cp</c>); each step is one <c>llama_decode</c> holding one token per live
    /// slot plus the prompt remainders of items refilling the slots freed by the previous step.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<int>> RunItems(IReadOnlyList<IReadOnlyList<int>> prompts, int[] replies, int slots)
    {
        int prefix = EvoMerge.Torch.Generation.ContinuousBatching.SharedPrefix(prompts);
        int longestRest = prompts.Max(p => p.Count) - prefix, longestReply = replies.Max();
        var parameters = new ModelParams(path)
        {
            ContextSize = (uint)(prefix + slots * (longestRest + longestReply) + 256),
            SeqMax = (uint)(slots + 1),
            KVUnified = true,
            BatchSize = (uint)Math.Max(prefix, slots * (longestRest + 1)),
            Threads = threads,
            BatchThreads = threads,
            GpuLayerCount = 0,
        };
        using var context = weights.CreateContext(parameters);
        var output = prompts.Select(_ => new List<int>()).ToArray();
        var prefixSeq = (LLamaSeqId)slots;
        var batch = new LLamaBatch();
        if (prefix > 0)
        {
            for (int i = 0; i < prefix; i++) batch.Add(prompts[0][i], i, prefixSeq, logits: false);
            Check(context.Decode(batch));
        }
        var itemOf = Enumerable.Repeat(-1, slots).ToArray();
        var position = new int[slots];
        var last = new int[slots];
        int queued = 0;
        while (true)
        {
            batch.Clear();
            var logitAt = new int[slots];
            for (int s = 0; s < slots; s++)
            {
                if (itemOf[s] >= 0)
                {
                    logitAt[s] = batch.TokenCount;
                    batch.Add(last[s], position[s]++, (LLamaSeqId)s, logits: true);
                }
                else if (queued < prompts.Count)
                {
                    int item = itemOf[s] = queued++;
                    context.NativeHandle.MemorySequenceRemove((LLamaSeqId)s, -1, -1);
                    if (prefix > 0) context.NativeHandle.MemorySequenceCopy(prefixSeq, (LLamaSeqId)s, 0, prefix);
                    var p = prompts[item];
                    for (int i = prefix; i < p.Count; i++)
                    {
                        if (i == p.Count - 1) logitAt[s] = batch.TokenCount;
                        batch.Add(p[i], i, (LLamaSeqId)s, logits: i == p.Count - 1);
                    }
                    position[s] = p.Count;
                }
            }
            if (batch.TokenCount == 0) break;
            Check(context.Decode(batch));
            for (int s = 0; s < slots; s++)
            {
                if (itemOf[s] < 0) continue;
                last[s] = Greedy(context, [logitAt[s]])[0];
                output[itemOf[s]].Add(last[s]);
                if (output[itemOf[s]].Count >= replies[itemOf[s]]) itemOf[s] = -1;
            }
        }
        return output;
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
