using System.Text.Json;

namespace EvoMerge.IO.Gguf;

/// <summary>
/// Reads a Hugging Face <c>tokenizer.json</c> with a byte-level BPE model (GPT-2 style: Qwen2, Llama 3) as a
/// "gpt2" GGUF vocabulary: tokens by id, merges by rank, added tokens as control (special) or user-defined.
/// SentencePiece-style BPE files (<c>byte_fallback</c>) are refused: export those from <c>tokenizer.model</c>.
/// </summary>
public static class TokenizerJsonVocabulary
{
    public static GgufVocabulary Read(string path, string preTokenizer)
    {
        using var doc = JsonDocument.Parse(InputFile.ReadAllBytes(path, InputFile.LargeFileBytes, "tokenizer.json"));
        var root = doc.RootElement;
        if (!root.TryGetProperty("model", out var model) || model.GetProperty("type").GetString() != "BPE")
            throw new EvoMergeException($"{path}: field 'model.type' must be \"BPE\" (byte-level BPE) to export a tokenizer.json");
        if (model.TryGetProperty("byte_fallback", out var fallback) && fallback.ValueKind == JsonValueKind.True)
            throw new EvoMergeException($"{path}: 'model.byte_fallback' is true (a SentencePiece-style BPE); expected tokenizer.model next to it");

        var byId = new SortedDictionary<int, (string Text, GgufTokenType Type)>();
        foreach (var entry in model.GetProperty("vocab").EnumerateObject())
            byId[entry.Value.GetInt32()] = (entry.Name, GgufTokenType.Normal);
        if (root.TryGetProperty("added_tokens", out var added))
            foreach (var t in added.EnumerateArray())
                byId[t.GetProperty("id").GetInt32()] = (t.GetProperty("content").GetString()!,
                    t.TryGetProperty("special", out var s) && s.GetBoolean() ? GgufTokenType.Control : GgufTokenType.UserDefined);

        var tokens = new List<string>();
        var types = new List<GgufTokenType>();
        foreach (var (id, (text, type)) in byId)
        {
            // Gaps in the id space become unused placeholders so that position = id.
            while (tokens.Count < id) { tokens.Add($"[PAD{tokens.Count}]"); types.Add(GgufTokenType.Unused); }
            tokens.Add(text);
            types.Add(type);
        }
        // Merges are "a b" strings in older files and ["a", "b"] pairs in newer ones.
        var merges = model.GetProperty("merges").EnumerateArray()
            .Select(m => m.ValueKind == JsonValueKind.Array ? $"{m[0].GetString()} {m[1].GetString()}" : m.GetString()!)
            .ToList();
        return new GgufVocabulary("gpt2", tokens, types, null, merges, null, null, null) { PreTokenizer = preTokenizer };
    }
}
