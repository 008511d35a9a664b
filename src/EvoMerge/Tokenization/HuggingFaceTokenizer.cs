using System.Text.Json;
using System.Text.Json.Nodes;
using EvoMerge.IO;

namespace EvoMerge.Tokenization;

/// <summary>
/// A Hugging Face <c>tokenizer.json</c> through Tokenizers.DotNet (Hugging Face's Rust tokenizers), which
/// applies the file's post-processor and so may add BOS on its own. Encode removes a BOS the library added and
/// adds one only when asked, so callers see the same contract as every other <see cref="ITokenizer"/>.
/// Vocabulary size and special ids come from the JSON itself (the library does not expose them).
/// </summary>
public sealed class HuggingFaceTokenizer : ITokenizer, IDisposable
{
    readonly Tokenizers.DotNet.Tokenizer inner;

    HuggingFaceTokenizer(Tokenizers.DotNet.Tokenizer inner, int vocabSize, int? bos, int? eos)
    {
        this.inner = inner;
        VocabSize = vocabSize;
        BosId = bos;
        EosId = eos;
    }

    public int VocabSize { get; }
    public int? BosId { get; }
    public int? EosId { get; }

    /// <param name="tokenizerJson">Path of tokenizer.json; tokenizer_config.json beside it names BOS and EOS.</param>
    public static HuggingFaceTokenizer Load(string tokenizerJson)
    {
        JsonNode root;
        try { root = JsonNode.Parse(InputFile.ReadAllText(tokenizerJson, InputFile.LargeFileBytes, "tokenizer.json")) ?? throw new JsonException("empty"); }
        catch (JsonException e) { throw new EvoMergeException($"{tokenizerJson}: not valid JSON ({e.Message})"); }

        var ids = new Dictionary<string, int>();
        if (root["model"]?["vocab"] is JsonObject vocab)
            foreach (var (piece, id) in vocab) if (id is JsonValue v && v.TryGetValue(out int i)) ids[piece] = i;
        if (root["added_tokens"] is JsonArray added)
            foreach (var t in added)
                if (t?["content"]?.GetValue<string>() is string content && t["id"] is JsonValue v && v.TryGetValue(out int i)) ids[content] = i;
        if (ids.Count == 0) throw new EvoMergeException($"{tokenizerJson}: field 'model.vocab' is missing or empty");

        var special = SpecialTokens.Read(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(tokenizerJson))!, "tokenizer_config.json"));
        int? Id(string? token) => token != null && ids.TryGetValue(token, out int i) ? i : null;
        try
        {
            var inner = new Tokenizers.DotNet.Tokenizer(vocabPath: tokenizerJson);
            return new HuggingFaceTokenizer(inner, ids.Values.Max() + 1, Id(special.Bos), Id(special.Eos));
        }
        catch (Exception e)
        {
            throw new EvoMergeException($"{tokenizerJson}: Hugging Face tokenizers could not load it ({e.Message})");
        }
    }

    public IReadOnlyList<int> Encode(string text, bool addBos)
    {
        var ids = inner.Encode(text).Select(u => (int)u).ToList();
        if (BosId is int bos)
        {
            if (ids.Count > 0 && ids[0] == bos) ids.RemoveAt(0);
            if (addBos) ids.Insert(0, bos);
        }
        return ids;
    }

    public string Decode(IReadOnlyList<int> ids) => inner.Decode(ids.Select(i => (uint)i).ToArray());

    public void Dispose() => inner.Dispose();
}
