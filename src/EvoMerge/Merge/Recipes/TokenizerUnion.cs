using System.Text.Json.Nodes;
using EvoMerge.IO;

namespace EvoMerge.Merge.Recipes;

/// <summary>
/// <c>tokenizer_source: union</c> by token, as mergekit builds it: the base model's tokens first (in id order),
/// then each other model's normal tokens it lacks, then their added and special tokens. Each model gets a map from
/// output id to its own row (−1 where it lacks the token). A model without a readable <c>tokenizer.json</c>
/// vocabulary counts its ids as its tokens, so vocabularies that extend one another line up by position.
/// </summary>
public sealed class TokenizerUnion
{
    /// <summary>The output vocabulary, by output id.</summary>
    public required IReadOnlyList<string> Tokens { get; init; }

    /// <summary>Per model: output id → that model's row, −1 where it lacks the token.</summary>
    public required IReadOnlyDictionary<string, int[]> RowOf { get; init; }

    /// <summary>The model whose tokenizer files the output starts from (the base, else the first model).</summary>
    public required string Primary { get; init; }

    /// <summary>Tokens that are added/special in the model they come from (written to <c>added_tokens</c>).</summary>
    public required IReadOnlySet<string> Added { get; init; }

    /// <summary>Output id of <paramref name="token"/>, or −1.</summary>
    public int IdOf(string token) => index.GetValueOrDefault(token, -1);

    Dictionary<string, int> index = [];

    /// <summary>Builds the union of <paramref name="models"/> (recipe order), starting from <paramref name="primary"/>.</summary>
    public static TokenizerUnion Build(IReadOnlyList<(string Name, ModelFolder Folder)> models, string primary)
    {
        var vocabularies = models.ToDictionary(m => m.Name, m => Vocabulary.Read(m.Folder));
        var tokens = new List<string>();
        var index = new Dictionary<string, int>();
        var added = new HashSet<string>();
        void Add(string token, bool isAdded)
        {
            if (!index.TryAdd(token, tokens.Count)) return;
            tokens.Add(token);
            if (isAdded) added.Add(token);
        }
        var first = vocabularies[primary];
        for (int id = 0; id < first.ById.Length; id++)
            if (first.ById[id] is { } t) Add(t, first.Added.Contains(t));
        foreach (var (name, _) in models.Where(m => m.Name != primary))
            foreach (var t in vocabularies[name].ById) if (t != null && !vocabularies[name].Added.Contains(t)) Add(t, false);
        foreach (var (name, _) in models.Where(m => m.Name != primary))
            foreach (var t in vocabularies[name].ById) if (t != null && vocabularies[name].Added.Contains(t)) Add(t, true);
        var rowOf = vocabularies.ToDictionary(v => v.Key, v =>
        {
            var map = new int[tokens.Count];
            Array.Fill(map, -1);
            for (int id = 0; id < v.Value.ById.Length; id++)
                if (v.Value.ById[id] is { } t && map[index[t]] < 0) map[index[t]] = id;
            return map;
        });
        return new TokenizerUnion { Tokens = tokens, RowOf = rowOf, Primary = primary, Added = added, index = index };
    }

    /// <summary>The primary model's <c>tokenizer.json</c> with the union's extra tokens: normal ones appended to a
    /// BPE/WordPiece/WordLevel <c>model.vocab</c>, added ones to <c>added_tokens</c>; null when it has none to extend.</summary>
    public string? TokenizerJson(ModelFolder primary)
    {
        var json = Vocabulary.ReadJson(primary);
        if (json?["model"]?["vocab"] is not JsonObject vocab) return null;
        var addedTokens = json["added_tokens"] as JsonArray ?? [];
        json["added_tokens"] = addedTokens;
        var existing = addedTokens.OfType<JsonObject>().Select(a => (string?)a["content"]).ToHashSet();
        for (int id = 0; id < Tokens.Count; id++)
        {
            string t = Tokens[id];
            if (Added.Contains(t))
            {
                if (!existing.Contains(t))
                    addedTokens.Add(new JsonObject { ["id"] = id, ["content"] = t, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = false, ["special"] = true });
            }
            else if (!vocab.ContainsKey(t)) vocab[t] = id;
        }
        return json.ToJsonString();
    }

    /// <summary>One model's tokens by id and which of them are added/special.</summary>
    sealed record Vocabulary(string?[] ById, HashSet<string> Added)
    {
        public static JsonObject? ReadJson(ModelFolder model)
        {
            string folder = Directory.Exists(model.Path) ? model.Path : System.IO.Path.GetDirectoryName(model.Path)!;
            string path = System.IO.Path.Combine(folder, "tokenizer.json");
            if (!File.Exists(path)) return null;
            try { return JsonNode.Parse(File.ReadAllText(path)) as JsonObject; }
            catch (System.Text.Json.JsonException e) { throw new EvoMergeException($"{path}: not valid JSON ({e.Message})"); }
        }

        public static Vocabulary Read(ModelFolder model)
        {
            int rows = model.Config?.VocabSize ?? 0;
            var byId = new Dictionary<int, string>();
            var added = new HashSet<string>();
            var json = ReadJson(model);
            switch (json?["model"]?["vocab"])
            {
                case JsonObject map:
                    foreach (var (token, id) in map) if (id is JsonValue v && v.TryGetValue(out int i) && i >= 0) byId.TryAdd(i, token);
                    break;
                case JsonArray list: // Unigram: [piece, score] by id
                    for (int i = 0; i < list.Count; i++) if (list[i] is JsonArray { Count: > 0 } e && (string?)e[0] is { } p) byId.TryAdd(i, p);
                    break;
            }
            foreach (var a in (json?["added_tokens"] as JsonArray ?? []).OfType<JsonObject>())
                if ((string?)a["content"] is { } content && a["id"] is JsonValue v && v.TryGetValue(out int id) && id >= 0)
                {
                    byId[id] = content;
                    added.Add(content);
                }
            if (byId.Count == 0)
                // No vocabulary to read: ids are the tokens (vocabularies that extend one another).
                for (int id = 0; id < rows; id++) byId[id] = $"\u0000id {id}";
            int size = Math.Max(rows, byId.Count == 0 ? 0 : byId.Keys.Max() + 1);
            var ById = new string?[size];
            foreach (var (id, token) in byId) if (id < size) ById[id] = token;
            return new Vocabulary(ById, added);
        }
    }
}
