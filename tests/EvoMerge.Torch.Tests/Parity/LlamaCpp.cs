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
    public static List<int> Greedy(string ggufPath, int[] prompt, int count) => Continue(ggufPath, prompt, count, null);

    /// <summary>Sampling at temperature 1 from the model's own distribution, seeded: text whose perplexity can only
    /// grow in expectation when the weights are perturbed (the growth is the KL divergence).</summary>
    public static List<int> Sample(string ggufPath, int[] prompt, int count, int seed) => Continue(ggufPath, prompt, count, new Random(seed));

    static List<int> Continue(string ggufPath, int[] prompt, int count, Random? sampler)
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
            int next = sampler == null ? ArgMax(logits) : Draw(logits, sampler.NextDouble());
            generated.Add(next);
            batch.Clear();
            batch.Add(next, pos, LLamaSeqId.Zero, logits: true);
        }
        return generated;
    }

    static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int t = 1; t < logits.Length; t++) if (logits[t] > logits[best]) best = t;
        return best;
    }

    static int Draw(ReadOnlySpan<float> logits, double u)
    {
        float max = logits[ArgMax(logits)];
        double total = 0;
        foreach (float l in logits) total += Math.Exp(l - max);
        double target = u * total;
        for (int t = 0; t < logits.Length; t++)
            if ((target -= Math.Exp(logits[t] - max)) <= 0) return t;
        return logits.Length - 1;
    }

    /// <summary>Perplexity of each sequence's tokens after the first, from llama.cpp's logits: exp of the mean negative log-likelihood.</summary>
    public static double Perplexity(string ggufPath, IReadOnlyList<int[]> sequences)
    {
        var logits = Logits(ggufPath, sequences);
        double nll = 0;
        int n = 0;
        for (int s = 0; s < sequences.Count; s++)
        {
            int vocab = logits[s].Length / sequences[s].Length;
            for (int i = 0; i + 1 < sequences[s].Length; i++)
            {
                var row = logits[s].AsSpan(i * vocab, vocab);
                float max = row[ArgMax(row)];
                double z = 0;
                foreach (float l in row) z += Math.Exp(l - max);
                nll += Math.Log(z) + max - row[sequences[s][i + 1]];
                n++;
            }
        }
        return Math.Exp(nll / n);
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
