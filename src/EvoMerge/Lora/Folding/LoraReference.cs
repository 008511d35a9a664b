namespace EvoMerge.Lora.Folding;

/// <summary>
/// mergekit's <c>model+lora</c> reference: a model with a LoRA folded in on load (strength 1). Both halves are model
/// references (a local path or a cached Hugging Face id). A reference that names an existing file or folder as a whole
/// is a plain model even when its name holds a '+'.
/// </summary>
public static class LoraReference
{
    /// <summary>The model and LoRA halves; <c>Lora</c> is null for a plain model reference.</summary>
    /// <exception cref="EvoMergeException">More than one '+', or an empty half.</exception>
    public static (string Model, string? Lora) Split(string reference)
    {
        int plus = reference.IndexOf('+');
        if (plus < 0 || File.Exists(reference) || Directory.Exists(reference)) return (reference, null);
        if (reference.IndexOf('+', plus + 1) >= 0)
            throw new EvoMergeException($"'{reference}': expected model+lora (one '+'; to fold several LoRAs or set strengths use the recipe's loras: list)");
        string model = reference[..plus].Trim(), lora = reference[(plus + 1)..].Trim();
        if (model.Length == 0 || lora.Length == 0)
            throw new EvoMergeException($"'{reference}': expected model+lora with both halves named");
        return (model, lora);
    }
}
