using LLama;
using LLama.Common;
using LLama.Native;

namespace EvoMerge.Torch.Tests.Parity;

/// <summary>llama.cpp (through LLamaSharp's CPU backend) as the independent runtime a GGUF export must run on.</summary>
public static class LlamaCpp
{
    static LlamaCpp()
    {
        // llama.cpp logs every tensor it loads; keep test output to warnings and errors.
        NativeLogConfig.llama_log_set((level, message) =>
        {
            if (level is LLamaLogLevel.Error or LLamaLogLevel.Warning) Console.Error.Write(message);
        });
    }

    /// <summary>
    /// Next-token logits of every position of every prompt: result[prompt][position * vocab + token].
    /// The KV cache is float32 and flash attention off so that only the weights' storage type adds rounding.
    /// </summary>
    public static List<float[]> Logits(string ggufPath, IReadOnlyList<int[]> prompts, int threads = 1)
    {
        var parameters = Parameters(ggufPath, prompts.Max(p => p.Length), threads);
        using var weights = LLamaWeights.LoadFromFile(parameters);
        using var context = weights.CreateContext(parameters);
        int vocab = weights.Vocab.Count;
        var results = new List<float[]>();
        var batch = new LLamaBatch();
        foreach (var prompt in prompts)
        {
            context.NativeHandle.MemoryClear(true);
            batch.Clear();
            for (int i = 0; i < prompt.Length; i++) batch.Add(prompt[i], i, LLamaSeqId.Zero, logits: true);
            var status = context.Decode(batch);
            if (status != DecodeResult.Ok) throw new InvalidOperationException($"llama_decode failed: {status}");
            var logits = new float[prompt.Length * vocab];
            for (int i = 0; i < prompt.Length; i++) context.NativeHandle.GetLogitsIth(i).CopyTo(logits.AsSpan(i * vocab, vocab));
            results.Add(logits);
        }
        return results;
    }

    /// <summary>Greedy decoding from <paramref name="prompt"/> for <paramref name="count"/> new tokens.</summary>
    public static List<int> Greedy(string ggufPath, int[] prompt, int count)
    {
        var parameters = Parameters(ggufPath, prompt.Length + count, threads: 1);
        using var weights = LLamaWeights.LoadFromFile(parameters);
        using var context = weights.CreateContext(parameters);
        var batch = new LLamaBatch();
        for (int i = 0; i < prompt.Length; i++) batch.Add(prompt[i], i, LLamaSeqId.Zero, logits: i == prompt.Length - 1);
        var generated = new List<int>();
        for (int pos = prompt.Length; generated.Count < count; pos++)
        {
            if (context.Decode(batch) != DecodeResult.Ok) throw new InvalidOperationException("llama_decode failed");
            var logits = context.NativeHandle.GetLogitsIth(batch.TokenCount - 1);
            int next = 0;
            for (int t = 1; t < logits.Length; t++) if (logits[t] > logits[next]) next = t;
            generated.Add(next);
            batch.Clear();
            batch.Add(next, pos, LLamaSeqId.Zero, logits: true);
        }
        return generated;
    }

    /// <summary>llama.cpp's own tokenization with the vocabulary stored in the GGUF (BOS added).</summary>
    public static int[] Tokenize(string ggufPath, string text)
    {
        var parameters = Parameters(ggufPath, 64, threads: 1);
        using var weights = LLamaWeights.LoadFromFile(parameters);
        using var context = weights.CreateContext(parameters);
        return [.. context.Tokenize(text, addBos: true, special: false).Select(t => (int)t)];
    }

    static ModelParams Parameters(string ggufPath, int tokens, int threads) => new(ggufPath)
    {
        ContextSize = (uint)Math.Max(16, tokens),
        BatchSize = (uint)Math.Max(16, tokens),
        UBatchSize = (uint)Math.Max(16, tokens),
        Threads = threads,
        BatchThreads = threads,
        GpuLayerCount = 0,
        FlashAttention = false,
        TypeK = GGMLType.GGML_TYPE_F32,
        TypeV = GGMLType.GGML_TYPE_F32,
    };
}
