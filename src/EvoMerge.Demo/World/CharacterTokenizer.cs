using System.Text;
using System.Text.Json;
using EvoMerge.Tokenization;

namespace EvoMerge.Demo;

/// <summary>
/// The demo models' tokenizer: one token per character. Ids: 0 <c>&lt;pad&gt;</c>, 1 <c>&lt;s&gt;</c>, 2 <c>&lt;/s&gt;</c>,
/// then newline, printable ASCII, and the Japanese characters of the world in code-point order. It is shipped as a
/// Hugging Face <c>tokenizer.json</c> (a BPE model with the characters as vocabulary and no merges), so the
/// shipped models load like any other model folder.
/// </summary>
public sealed class CharacterTokenizer : ITokenizer
{
    public const string Pad = "<pad>", Bos = "<s>", Eos = "</s>";

    /// <summary>The fixed fragments of the Japanese templates (see <see cref="WorldSentences"/> and <see cref="WordProblem"/>).</summary>
    const string JaTemplateCharacters = "に住んでいます。の が好きです。に行きます。を持っています。にあります。と 友達です。から もらいました。買いました。"
        + "全部で何 ですか? 最初は何 は何を持っていますか? はどこに住んでいますか? 問: 答え:";

    readonly string[] pieces;
    readonly Dictionary<char, int> ids;

    public CharacterTokenizer()
    {
        var japanese = WorldLexicon.People.Concat(WorldLexicon.Cities).Concat(WorldLexicon.Colours).Concat(WorldLexicon.Places)
            .Select(w => w.Ja).Concat(WorldLexicon.Things.Select(t => t.Ja + t.Counter)).Append(JaTemplateCharacters)
            .SelectMany(s => s).Where(c => c > '~').Distinct().Order();
        var characters = new[] { '\n' }.Concat(Enumerable.Range(' ', '~' - ' ' + 1).Select(c => (char)c)).Concat(japanese);
        pieces = [Pad, Bos, Eos, .. characters.Select(c => c.ToString())];
        ids = characters.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i + 3);
    }

    public int VocabSize => pieces.Length;
    public int? BosId => 1;
    public int? EosId => 2;
    public int PadId => 0;

    public IReadOnlyList<int> Encode(string text, bool addBos)
    {
        var result = new List<int>(text.Length + 1);
        if (addBos) result.Add(1);
        foreach (char c in text)
            result.Add(ids.TryGetValue(c, out int id) ? id
                : throw new EvoMergeException($"the demo's character vocabulary has no '{c}' (U+{(int)c:X4}); expected text of the miniature world"));
        return result;
    }

    public string Decode(IReadOnlyList<int> ids)
    {
        var sb = new StringBuilder(ids.Count);
        foreach (int id in ids)
            if (id > 2 && id < pieces.Length) sb.Append(pieces[id]);
        return sb.ToString();
    }

    /// <summary>Writes <c>tokenizer.json</c> and <c>tokenizer_config.json</c> into a model folder.</summary>
    public void WriteHuggingFaceFiles(string folder)
    {
        File.WriteAllBytes(Path.Combine(folder, "tokenizer.json"), TokenizerJson());
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["tokenizer_class"] = "PreTrainedTokenizerFast",
            ["bos_token"] = Bos, ["eos_token"] = Eos, ["pad_token"] = Pad,
            ["add_bos_token"] = true, ["add_eos_token"] = false, ["model_max_length"] = 256,
        }, new JsonSerializerOptions { WriteIndented = true }));
    }

    byte[] TokenizerJson()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("version", "1.0");
            w.WriteNull("truncation");
            w.WriteNull("padding");
            w.WriteStartArray("added_tokens");
            for (int id = 0; id < 3; id++)
            {
                w.WriteStartObject();
                w.WriteNumber("id", id);
                w.WriteString("content", pieces[id]);
                w.WriteBoolean("single_word", false);
                w.WriteBoolean("lstrip", false);
                w.WriteBoolean("rstrip", false);
                w.WriteBoolean("normalized", false);
                w.WriteBoolean("special", true);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteNull("normalizer");
            w.WriteNull("pre_tokenizer");
            // Like Llama's tokenizer.json: BOS is added by the post-processor.
            w.WriteStartObject("post_processor");
            w.WriteString("type", "TemplateProcessing");
            w.WriteStartArray("single");
            WritePiece(w, "SpecialToken", Bos);
            WritePiece(w, "Sequence", "A");
            w.WriteEndArray();
            w.WriteStartArray("pair");
            WritePiece(w, "SpecialToken", Bos);
            WritePiece(w, "Sequence", "A");
            WritePiece(w, "SpecialToken", Bos);
            WritePiece(w, "Sequence", "B");
            w.WriteEndArray();
            w.WriteStartObject("special_tokens");
            w.WriteStartObject(Bos);
            w.WriteString("id", Bos);
            w.WriteStartArray("ids"); w.WriteNumberValue(1); w.WriteEndArray();
            w.WriteStartArray("tokens"); w.WriteStringValue(Bos); w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
            // Characters are whole tokens: decoding concatenates them.
            w.WriteStartObject("decoder");
            w.WriteString("type", "Fuse");
            w.WriteEndObject();
            w.WriteStartObject("model");
            w.WriteString("type", "BPE");
            w.WriteNull("dropout");
            w.WriteNull("unk_token");
            w.WriteNull("continuing_subword_prefix");
            w.WriteNull("end_of_word_suffix");
            w.WriteBoolean("fuse_unk", false);
            w.WriteBoolean("byte_fallback", false);
            w.WriteStartObject("vocab");
            for (int id = 0; id < pieces.Length; id++) w.WriteNumber(pieces[id], id);
            w.WriteEndObject();
            w.WriteStartArray("merges");
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return stream.ToArray();
    }

    /// <summary>One piece of a TemplateProcessing template: <c>{"SpecialToken": {...}}</c> or <c>{"Sequence": {...}}</c>.</summary>
    static void WritePiece(Utf8JsonWriter w, string kind, string id)
    {
        w.WriteStartObject();
        w.WriteStartObject(kind);
        w.WriteString("id", id);
        w.WriteNumber("type_id", 0);
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
