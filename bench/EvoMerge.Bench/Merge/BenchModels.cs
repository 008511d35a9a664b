using EvoMerge.IO;

namespace EvoMerge.Bench.Merge;

/// <summary>
/// Three Llama-shaped bf16 models (base, a, b) of one <see cref="Shape"/>, made once and reused: the same base pattern
/// for every model plus a model-specific perturbation, so task vectors are small as in real fine-tunes.
/// </summary>
static class BenchModels
{
    /// <summary>A decoder's dimensions (keyValue: the K/V projections' rows, smaller than hidden with grouped-query attention).</summary>
    public sealed record Shape(string Name, int Hidden, int Intermediate, int KeyValue, int Vocab, int Layers, int Heads, int KvHeads)
    {
        public long Parameters => (long)Layers * PerLayer + 2L * Vocab * Hidden + Hidden;

        long PerLayer => 2L * Hidden * Hidden + 2L * KeyValue * Hidden + 3L * Hidden * Intermediate + 2L * Hidden;

        /// <summary>TinyLlama-like (hidden 2048, MLP 5632, vocab 32000) with as many layers as make about <paramref name="parameters"/> (1e9: 17 layers, 1.005 B).</summary>
        public static Shape Small(double parameters)
        {
            var one = new Shape("1b", 2048, 5632, 2048, 32000, 1, 16, 16);
            long outer = one.Parameters - one.PerLayer;
            if (parameters < outer) return one with { Vocab = (int)Math.Max(64, parameters / 3 / one.Hidden), Name = "small" };
            return one with { Layers = (int)Math.Max(1, Math.Round((parameters - outer) / one.PerLayer)) };
        }

        /// <summary>Mistral-7B's shape: 32 layers, hidden 4096, MLP 14336, 8 KV heads of 128, vocab 32000 (7.24 B parameters, 14.5 GB in bf16).</summary>
        public static Shape Mistral7B { get; } = new("7b", 4096, 14336, 1024, 32000, 32, 32, 8);
    }

    public sealed record Set(string Base, string A, string B, long Parameters, long BytesPerModel)
    {
        public IEnumerable<string> Folders => [Base, A, B];
    }

    public static Set Ensure(string dir, Shape shape)
    {
        var specs = Specs(shape).ToList();
        long total = specs.Sum(s => s.ElementCount);
        var paths = new[] { "base", "a", "b" }.Select(n => Path.Combine(dir, $"{n}-{shape.Name}-{total}")).ToArray();
        // The models still to generate, one merge output at a time (the benchmark deletes each before the next) and
        // the write floor's copy of one model, which comes after the last output is gone.
        long missing = paths.Count(p => !File.Exists(Path.Combine(p, "config.json"))) * total * 2, needed = missing + total * 2;
        long free = new DriveInfo(Path.GetFullPath(dir)).AvailableFreeSpace;
        if (free < needed)
            throw new EvoMergeException($"{dir}: the {shape.Name} case needs {needed / 1e9:0.0} GB free ({missing / 1e9:0.0} GB of models to generate, " +
                $"{total * 2 / 1e9:0.0} GB for one merge output at a time), {free / 1e9:0.0} GB are; free space there or pass --dir on a larger disk");
        for (int m = 0; m < 3; m++)
            if (!File.Exists(Path.Combine(paths[m], "config.json"))) Write(paths[m], specs, shape, seed: m);
        return new Set(paths[0], paths[1], paths[2], total, total * 2);
    }

    static IEnumerable<TensorSpec> Specs(Shape s)
    {
        yield return new("model.embed_tokens.weight", DType.BF16, [s.Vocab, s.Hidden]);
        for (int i = 0; i < s.Layers; i++)
        {
            string p = $"model.layers.{i}.";
            yield return new(p + "input_layernorm.weight", DType.BF16, [s.Hidden]);
            yield return new(p + "self_attn.q_proj.weight", DType.BF16, [s.Hidden, s.Hidden]);
            yield return new(p + "self_attn.k_proj.weight", DType.BF16, [s.KeyValue, s.Hidden]);
            yield return new(p + "self_attn.v_proj.weight", DType.BF16, [s.KeyValue, s.Hidden]);
            yield return new(p + "self_attn.o_proj.weight", DType.BF16, [s.Hidden, s.Hidden]);
            yield return new(p + "post_attention_layernorm.weight", DType.BF16, [s.Hidden]);
            yield return new(p + "mlp.gate_proj.weight", DType.BF16, [s.Intermediate, s.Hidden]);
            yield return new(p + "mlp.up_proj.weight", DType.BF16, [s.Intermediate, s.Hidden]);
            yield return new(p + "mlp.down_proj.weight", DType.BF16, [s.Hidden, s.Intermediate]);
        }
        yield return new("model.norm.weight", DType.BF16, [s.Hidden]);
        yield return new("lm_head.weight", DType.BF16, [s.Vocab, s.Hidden]);
    }

    /// <summary>Random bf16 weights: the same base pattern for every model plus a model-specific perturbation.</summary>
    static void Write(string folder, List<TensorSpec> specs, Shape shape, int seed)
    {
        Console.WriteLine($"generating {folder} ({specs.Sum(s => s.ElementCount) * 2 / 1e9:0.0} GB)");
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
            {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "num_hidden_layers": {{shape.Layers}}, "hidden_size": {{shape.Hidden}},
             "intermediate_size": {{shape.Intermediate}}, "num_attention_heads": {{shape.Heads}}, "num_key_value_heads": {{shape.KvHeads}},
             "vocab_size": {{shape.Vocab}}, "tie_word_embeddings": false, "torch_dtype": "bfloat16"}
            """);
    }

    /// <summary>Every weight file of the folders.</summary>
    public static IEnumerable<string> Files(IEnumerable<string> folders) =>
        folders.SelectMany(f => Directory.EnumerateFiles(f, "*.safetensors").Order());

    /// <summary>Reads every file once so that the timed run starts with a warm page cache, as a repeated merge would.</summary>
    public static void Warm(IEnumerable<string> folders)
    {
        var buffer = new byte[1 << 22];
        foreach (var file in Files(folders))
        {
            using var stream = File.OpenRead(file);
            while (stream.Read(buffer) > 0) { }
        }
    }
}
