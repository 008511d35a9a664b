namespace EvoMerge.Lora;

/// <summary>
/// PEFT's LoRA adapter layout, shared by the writer (<see cref="PeftAdapterWriter"/>) and the reader
/// (<see cref="Folding.LoraFile"/>): a folder with <c>adapter_config.json</c> and <c>adapter_model.safetensors</c>, keys
/// <c>base_model.model.&lt;module&gt;.lora_A.weight</c> [r, in] and <c>….lora_B.weight</c> [out, r] (some savers keep the
/// adapter name: <c>lora_A.default.weight</c>), embeddings as <c>lora_embedding_A</c> [r, vocab] /
/// <c>lora_embedding_B</c> [dim, r], and modules_to_save as whole tensors <c>base_model.model.&lt;tensor&gt;</c>.
/// </summary>
public static class PeftFormat
{
    public const string ConfigFileName = "adapter_config.json";
    public const string WeightsFileName = "adapter_model.safetensors";
    public const string Prefix = "base_model.model.";

    public static string LoraAKey(string module) => Prefix + module + ".lora_A.weight";

    public static string LoraBKey(string module) => Prefix + module + ".lora_B.weight";

    public static string SavedKey(string tensor) => Prefix + tensor;

    /// <summary>Which factor a key holds.</summary>
    public enum Part { None, A, B, EmbeddingA, EmbeddingB }

    /// <summary>Splits a key into its module path (prefix removed) and factor; <see cref="Part.None"/> for a whole tensor.</summary>
    public static (string Module, Part Part) Parse(string key)
    {
        string name = key.StartsWith(Prefix, StringComparison.Ordinal) ? key[Prefix.Length..] : key;
        var parts = name.Split('.');
        // <module>.lora_A[.adapter].weight, <module>.lora_embedding_A[.adapter]
        for (int i = parts.Length - 1; i >= Math.Max(1, parts.Length - 3); i--)
        {
            var part = parts[i] switch
            {
                "lora_A" => Part.A,
                "lora_B" => Part.B,
                "lora_embedding_A" => Part.EmbeddingA,
                "lora_embedding_B" => Part.EmbeddingB,
                _ => Part.None,
            };
            if (part == Part.None) continue;
            int rest = parts.Length - 1 - i;
            bool embedding = part is Part.EmbeddingA or Part.EmbeddingB;
            bool wellFormed = embedding ? rest <= 1 : rest == 1 && parts[^1] == "weight" || rest == 2 && parts[^1] == "weight";
            if (wellFormed) return (string.Join('.', parts[..i]), part);
        }
        return (name, Part.None);
    }
}
