using System.Text.Json;
using System.Text.Json.Nodes;

namespace EvoMerge.Demo.Vision;

/// <summary>
/// V's tokenizer files: the demo's character tokenizer with <c>&lt;image&gt;</c> added as a special token on the
/// row after the characters, as llava-hf folders add it to their text model's tokenizer.
/// </summary>
public static class VlmTokenizerFiles
{
    public static void Write(CharacterTokenizer tokenizer, string folder)
    {
        tokenizer.WriteHuggingFaceFiles(folder);
        string path = Path.Combine(folder, "tokenizer.json");
        var root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        root["added_tokens"]!.AsArray().Add(new JsonObject
        {
            ["id"] = tokenizer.VocabSize, ["content"] = VlmShape.ImageToken, ["single_word"] = false, ["lstrip"] = false,
            ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
        });
        var options = new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        File.WriteAllText(path, root.ToJsonString(options));
        string configPath = Path.Combine(folder, "tokenizer_config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["image_token"] = VlmShape.ImageToken;
        File.WriteAllText(configPath, config.ToJsonString(options));
    }
}
