using EvoMerge.Tokenization;

namespace EvoMerge.Tests.Tokenization;

/// <summary>A small hand-written tokenizer.json whose post-processor adds BOS, as Llama's does.</summary>
public class HuggingFaceTokenizerTests : IDisposable
{
    const string TokenizerJson = """
    {
      "version": "1.0", "truncation": null, "padding": null,
      "added_tokens": [
        {"id": 0, "content": "<s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
        {"id": 1, "content": "</s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}
      ],
      "normalizer": null,
      "pre_tokenizer": {"type": "Whitespace"},
      "post_processor": {
        "type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
        "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
        "special_tokens": {"<s>": {"id": "<s>", "ids": [0], "tokens": ["<s>"]}}
      },
      "decoder": null,
      "model": {"type": "WordLevel", "vocab": {"<s>": 0, "</s>": 1, "<unk>": 2, "hello": 3, "world": 4, "!": 5}, "unk_token": "<unk>"}
    }
    """;

    readonly string dir = Path.Combine(Path.GetTempPath(), "evomerge-hf-tok-" + Guid.NewGuid().ToString("N"));

    public HuggingFaceTokenizerTests()
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), TokenizerJson);
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), """{"bos_token": "<s>", "eos_token": {"content": "</s>"}}""");
    }

    public void Dispose() => Directory.Delete(dir, true);

    [Fact]
    public void TheLibrarysBosIsAddedOnlyWhenAsked()
    {
        var tok = (HuggingFaceTokenizer)TokenizerFactory.FromFolder(dir, vocabSize: 6);
        Assert.Equal((0, 1, 6), (tok.BosId, tok.EosId, tok.VocabSize));
        Assert.Equal([3, 4, 5], tok.Encode("hello world!", addBos: false));
        Assert.Equal([0, 3, 4, 5], tok.Encode("hello world!", addBos: true));
        Assert.Contains("world", tok.Decode([0, 3, 4]));
    }

    [Fact]
    public void AFolderWithoutTokenizerIsAUserError()
    {
        File.Delete(Path.Combine(dir, "tokenizer.json"));
        var e = Assert.Throws<EvoMergeException>(() => TokenizerFactory.FromFolder(dir, 6));
        Assert.Contains("tokenizer.model", e.Message);
    }
}
