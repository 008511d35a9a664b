using EvoMerge.IO;

namespace EvoMerge.Tests.IO;

/// <summary>Writes a small Llama-shaped model folder (config.json, bf16 weights, a tokenizer file) for tests.</summary>
static class TinyModel
{
    public static readonly string Config = """
        {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "num_hidden_layers": 2, "hidden_size": 8,
         "intermediate_size": 16, "num_attention_heads": 2, "num_key_value_heads": 1, "vocab_size": 10,
         "tie_word_embeddings": false, "rope_theta": 10000.0, "rope_scaling": {"type": "linear", "factor": 2.0},
         "rms_norm_eps": 1e-05, "torch_dtype": "bfloat16"}
        """;

    public static IEnumerable<TensorSpec> Tensors(int layers = 2)
    {
        yield return new("model.embed_tokens.weight", DType.BF16, [10, 8]);
        for (int i = 0; i < layers; i++)
        {
            yield return new($"model.layers.{i}.input_layernorm.weight", DType.BF16, [8]);
            yield return new($"model.layers.{i}.self_attn.q_proj.weight", DType.BF16, [8, 8]);
            yield return new($"model.layers.{i}.self_attn.k_proj.weight", DType.BF16, [4, 8]);
            yield return new($"model.layers.{i}.mlp.up_proj.weight", DType.BF16, [16, 8]);
        }
        yield return new("model.norm.weight", DType.F32, [8]);
        yield return new("lm_head.weight", DType.BF16, [10, 8]);
    }

    /// <summary>Writes the folder; every value is its element index / 8, so tests can predict it.</summary>
    public static void Write(string folder, long maxShardBytes = 300, string? config = null, int layers = 2)
    {
        var specs = Tensors(layers).ToList();
        using var writer = SafetensorsWriter.Create(folder, specs, maxShardBytes);
        foreach (var spec in specs)
            writer.WriteFloat32(spec.Name, Enumerable.Range(0, (int)spec.ElementCount).Select(i => i / 8f).ToArray());
        writer.Complete();
        File.WriteAllText(Path.Combine(folder, ModelFolder.ConfigFileName), config ?? Config);
        File.WriteAllText(Path.Combine(folder, "tokenizer.json"), "{}");
    }
}
