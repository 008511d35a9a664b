using EvoMerge.IO;
using EvoMerge.Merge.Execution;

namespace EvoMerge.Tests.Merge;

/// <summary>
/// Writes small Llama-shaped model folders with seeded random weights for recipe tests, and reads merged outputs
/// back. The values are kept in memory too (<see cref="Generated.Weights"/>), so tests compute expectations from them.
/// </summary>
static class TestModels
{
    public const int Hidden = 8, Intermediate = 12;


    public sealed record Generated(string Path, InMemoryWeights Weights);

    public static IEnumerable<(string Name, long[] Shape)> Tensors(int layers, int vocab, int hidden = Hidden)
    {
        yield return ("model.embed_tokens.weight", [vocab, hidden]);
        for (int i = 0; i < layers; i++)
        {
            yield return ($"model.layers.{i}.input_layernorm.weight", [hidden]);
            yield return ($"model.layers.{i}.self_attn.q_proj.weight", [hidden, hidden]);
            yield return ($"model.layers.{i}.self_attn.k_proj.weight", [hidden / 2, hidden]);
            yield return ($"model.layers.{i}.mlp.up_proj.weight", [Intermediate, hidden]);
            yield return ($"model.layers.{i}.mlp.down_proj.weight", [hidden, Intermediate]);
        }
        yield return ("model.norm.weight", [hidden]);
        yield return ("lm_head.weight", [vocab, hidden]);
    }

    /// <summary>
    /// A model folder under <paramref name="root"/>/<paramref name="name"/>. <paramref name="related"/> makes it a
    /// fine-tune: its weights are the related model's plus small noise (so task vectors are small, as in practice).
    /// </summary>
    public static Generated Write(string root, string name, int seed, int layers = 4, int vocab = 32,
        DType dtype = DType.F32, Generated? related = null, int hidden = Hidden)
    {
        string folder = System.IO.Path.Combine(root, name);
        var rng = new Random(seed);
        var weights = new InMemoryWeights(name);
        var specs = Tensors(layers, vocab, hidden).ToList();
        using (var writer = SafetensorsWriter.Create(folder, specs.Select(s => new TensorSpec(s.Name, dtype, s.Shape))))
        {
            foreach (var (tensor, shape) in specs)
            {
                var values = new float[TensorInfo.ElementCountOf(shape)];
                float[]? parent = related != null && related.Weights.TryGetShape(tensor, out var ps) && ps[0] == shape[0] ? related.Weights.Get(tensor) : null;
                for (int i = 0; i < values.Length; i++)
                {
                    double v = parent != null ? parent[i] + 0.1 * (rng.NextDouble() - 0.5) : rng.NextDouble() * 2 - 1;
                    values[i] = dtype == DType.BF16 ? FloatConversion_RoundBf16((float)v) : (float)v;
                }
                writer.WriteFloat32(tensor, values);
                weights.Add(tensor, shape, values);
            }
            writer.Complete();
        }
        File.WriteAllText(System.IO.Path.Combine(folder, ModelFolder.ConfigFileName), $$"""
            {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "num_hidden_layers": {{layers}}, "hidden_size": {{hidden}},
             "intermediate_size": {{Intermediate}}, "num_attention_heads": 2, "num_key_value_heads": 1, "vocab_size": {{vocab}},
             "tie_word_embeddings": false, "rms_norm_eps": 1e-05, "torch_dtype": "{{(dtype == DType.BF16 ? "bfloat16" : "float32")}}"}
            """);
        File.WriteAllText(System.IO.Path.Combine(folder, "tokenizer.json"), $$"""{"model": {"type": "BPE"}, "name": "{{name}}", "vocab_size": {{vocab}}}""");
        return new Generated(folder, weights);
    }

    static float FloatConversion_RoundBf16(float v) => BitConverter.UInt32BitsToSingle((uint)FloatConversion.RoundToBFloat16(v) << 16);

    /// <summary>Every tensor of a merged output folder as float32.</summary>
    public static (ModelFolder Folder, Dictionary<string, float[]> Tensors) Read(string folder)
    {
        var model = ModelFolder.Open(folder);
        var source = new SafetensorsWeights(model.Weights, folder);
        var tensors = model.Weights.Tensors.ToDictionary(t => t.Name, t =>
        {
            var values = new float[t.ElementCount];
            source.ReadFloat32(t.Name, values);
            return values;
        });
        return (model, tensors);
    }
}
