using System.Text.Json;
using System.Text.Json.Nodes;
using EvoMerge.IO;

namespace EvoMerge.Tokenization;

/// <summary>The BOS/EOS strings and the chat template that <c>tokenizer_config.json</c> declares (all optional).</summary>
public sealed record SpecialTokens(string? Bos, string? Eos, string? ChatTemplate)
{
    public static SpecialTokens Read(string tokenizerConfigPath)
    {
        if (!InputFile.Exists(tokenizerConfigPath)) return new SpecialTokens(null, null, null);
        JsonNode? root;
        try { root = JsonNode.Parse(InputFile.ReadAllText(tokenizerConfigPath, InputFile.LargeFileBytes, "tokenizer_config.json")); }
        catch (JsonException e) { throw new EvoMergeException($"{tokenizerConfigPath}: not valid JSON ({e.Message})"); }
        // A token is either a string or an AddedToken object {"content": ...}.
        static string? Token(JsonNode? n) => n switch
        {
            JsonValue v when v.TryGetValue(out string? s) => s,
            JsonObject o => o["content"]?.GetValue<string>(),
            _ => null,
        };
        string? template = root?["chat_template"] switch
        {
            JsonValue v when v.TryGetValue(out string? s) => s,
            // A list of named templates: the "default" one is what transformers renders.
            JsonArray list => list.OfType<JsonObject>().FirstOrDefault(t => t["name"]?.GetValue<string>() == "default")?["template"]?.GetValue<string>(),
            _ => null,
        };
        return new SpecialTokens(Token(root?["bos_token"]), Token(root?["eos_token"]), template);
    }
}
