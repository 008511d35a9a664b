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
        var parameters = new ModelParams(ggufPath)
        {
            ContextSize = (uint)Math.Max(16, prompts.Max(p => p.Length)),
            BatchSize = (uint)Math.Max(16, prompts.Max(p => p.Length)),
            UBatchSize = (uint)Math.Max(16, prompts.Max(p => p.Length)),
            Threads = threads,
            BatchThreads = threads,
            GpuLayerCount = 0,
            FlashAttention = false,
            TypeK = GGMLType.GGML_TYPE_F32,
            TypeV = GGMLType.GGML_TYPE_F32,
        };
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
}
