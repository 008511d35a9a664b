using EvoMerge.IO;

namespace EvoMerge.Bench.Merge;

/// <summary>Three Llama-shaped bf16 models (hidden 2048, MLP 5632, vocab 32000) of about the requested size, made once and reused.</summary>
static class BenchModels
{
    public sealed record Set(string Base, string A, string B, long Parameters, long BytesPerModel);

    const int Hidden = 2048, Intermediate = 5632, Vocab = 32000;

    public static Set Ensure(string dir, double parameters)
    {
        long perLayer = 4L * Hidden * Hidden + 3L * Hidden * Intermediate + 2L * Hidden;
        long outer = 2L * Vocab * Hidden + Hidden;
        int layers = (int)Math.Max(1, Math.Round((parameters - outer) / perLayer));
        if (parameters < outer) layers = 1;
        var specs = Specs(layers, parameters < outer ? (int)Math.Max(64, parameters / 3 / Hidden) : Vocab).ToList();
        long total = specs.Sum(s => s.ElementCount);
        string[] names = ["base", "a", "b"];
        var paths = names.Select(n => Path.Combine(dir, $"{n}-{total}")).ToArray();
        for (int m = 0; m < 3; m++)
            if (!File.Exists(Path.Combine(paths[m], "config.json"))) Write(paths[m], specs, layers, seed: m);
        return new Set(paths[0], paths[1], paths[2], total, total * 2);
    }

    static IEnumerable<TensorSpec> Specs(int layers, int vocab)
    {
        yield return new("model.embed_tokens.weight", DType.BF16, [vocab, Hidden]);
        for (int i = 0; i < layers; i++)
        {
            string p = $"model.layers.{i}.";
            yield return new(p + "input_layernorm.weight", DType.BF16, [Hidden]);
            foreach (var proj in new[] { "q_proj", "k_proj", "v_proj", "o_proj" }) yield return new(p + $"self_attn.{proj}.weight", DType.BF16, [Hidden, Hidden]);
            yield return new(p + "post_attention_layernorm.weight", DType.BF16, [Hidden]);
            yield return new(p + "mlp.gate_proj.weight", DType.BF16, [Intermediate, Hidden]);
            yield return new(p + "mlp.up_proj.weight", DType.BF16, [Intermediate, Hidden]);
            yield return new(p + "mlp.down_proj.weight", DType.BF16, [Hidden, Intermediate]);
        }
        yield return new("model.norm.weight", DType.BF16, [Hidden]);
        yield return new("lm_head.weight", DType.BF16, [vocab, Hidden]);
    }

    /// <summary>Random bf16 weights: the same base pattern for every model plus a model-specific perturbation.</summary>
    static void Write(string folder, List<TensorSpec> specs, int layers, int seed)
    {
        using (var writer = SafetensorsWriter.Create(folder, specs))
        {
            Parallel.ForEach(specs, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, spec =>
            {
                var values = new float[Math.Min(spec.ElementCount, 1 << 22)];
                ulong state = EvoMerge.Merge.Kernels.TensorRandom.KeyFor(0, spec.Name) | 1, noise = (ulong)(seed + 1) * 0xD1B54A32D192ED03UL;
                for (long offset = 0; offset < spec.ElementCount; offset += values.Length)
                {
                    int n = (int)Math.Min(values.Length, spec.ElementCount - offset);
                    for (int i = 0; i < n; i++)
                    {
                        state ^= state << 13; state ^= state >> 7; state ^= state << 17;
                        noise ^= noise << 13; noise ^= noise >> 7; noise ^= noise << 17;
                        values[i] = ((state >> 40) * (1f / (1 << 24)) - 0.5f) * 0.04f + (seed == 0 ? 0 : ((noise >> 40) * (1f / (1 << 24)) - 0.5f) * 0.004f);
                    }
                    writer.WriteFloat32(spec.Name, values.AsSpan(0, n), offset);
                }
            });
            writer.Complete();
        }
        File.WriteAllText(Path.Combine(folder, "config.json"), $$"""
            {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "num_hidden_layers": {{layers}}, "hidden_size": {{Hidden}},
             "intermediate_size": {{Intermediate}}, "num_attention_heads": 16, "num_key_value_heads": 16,
             "vocab_size": {{specs[0].Shape[0]}}, "tie_word_embeddings": false, "torch_dtype": "bfloat16"}
            """);
    }

    /// <summary>Reads every file once so that the timed run starts with a warm page cache, as a repeated merge would.</summary>
    public static void Warm(IEnumerable<string> folders)
    {
        var buffer = new byte[1 << 22];
        foreach (var file in folders.SelectMany(f => Directory.EnumerateFiles(f, "*.safetensors")))
        {
            using var stream = File.OpenRead(file);
            while (stream.Read(buffer) > 0) { }
        }
    }
}
