using EvoMerge.IO;

namespace EvoMerge.TestSupport;

/// <summary>
/// Llama-shaped model folders whose every weight is one constant (float32), so that a merge's result is known by
/// hand: task arithmetic over base 0 and sources 1 and 2 with weights w₁, w₂ gives w₁ + 2·w₂ everywhere. Used with
/// <c>External/scorer.py</c>, the fitness command of the tests.
/// </summary>
public static class ConstantModels
{
    const string Config = """
        {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "num_hidden_layers": 2, "hidden_size": 8,
         "intermediate_size": 16, "num_attention_heads": 2, "num_key_value_heads": 1, "vocab_size": 10,
         "tie_word_embeddings": false, "rms_norm_eps": 1e-05, "torch_dtype": "float32"}
        """;

    /// <summary>The tensors of each folder (the scorer's items, sorted by name).</summary>
    public static readonly TensorSpec[] Tensors =
    [
        new("lm_head.weight", DType.F32, [10, 8]),
        new("model.embed_tokens.weight", DType.F32, [10, 8]),
        .. Enumerable.Range(0, 2).SelectMany(i => new TensorSpec[]
        {
            new($"model.layers.{i}.input_layernorm.weight", DType.F32, [8]),
            new($"model.layers.{i}.mlp.up_proj.weight", DType.F32, [16, 8]),
            new($"model.layers.{i}.self_attn.q_proj.weight", DType.F32, [8, 8]),
        }),
        new("model.norm.weight", DType.F32, [8]),
    ];

    public static void Write(string folder, float value)
    {
        using (var writer = SafetensorsWriter.Create(folder, Tensors))
        {
            foreach (var t in Tensors) writer.WriteFloat32(t.Name, Enumerable.Repeat(value, (int)t.ElementCount).ToArray());
            writer.Complete();
        }
        File.WriteAllText(Path.Combine(folder, ModelFolder.ConfigFileName), Config);
    }

    /// <summary>base (0), a (1) and b (2) under <paramref name="root"/>; returns their paths.</summary>
    public static (string Base, string A, string B) WriteSources(string root)
    {
        var paths = (Path.Combine(root, "base"), Path.Combine(root, "a"), Path.Combine(root, "b"));
        Write(paths.Item1, 0);
        Write(paths.Item2, 1);
        Write(paths.Item3, 2);
        return paths;
    }

    /// <summary>The scorer's target: a tensor whose mean is this scores 0.</summary>
    public const double Target = 1.3;

    /// <summary>The scorer's score of a model whose every weight is <paramref name="value"/> (computed here, by hand).</summary>
    public static double ScoreOf(double value) => -(value - Target) * (value - Target);

    /// <summary>Where the scorer lies in the test output folder.</summary>
    public static string Scorer => Path.Combine(AppContext.BaseDirectory, "External", "scorer.py");
}
