using System.Diagnostics;
using System.Globalization;
using EvoMerge.IO.Gguf;
using EvoMerge.TestSupport;

namespace EvoMerge.Tests.Gguf;

public class VocabularyTests
{
    const string Mistral = "tokenizers/mistral-7b-v0.1/tokenizer.model";
    const string Tok512 = "models/stories260k/tok512.bin";

    [SpmExportVocabFact(Mistral)]
    public void SentencePiecePiecesAndScoresMatchSpmExportVocab()
    {
        var vocab = SentencePieceVocabulary.Read(SharedData.PathOf(Mistral));
        // Reference: Debian's sentencepiece, one "piece<TAB>score" line per id.
        var psi = new ProcessStartInfo("spm_export_vocab", $"--model={SharedData.PathOf(Mistral)}") { RedirectStandardOutput = true };
        using var p = Process.Start(psi)!;
        var lines = p.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        p.WaitForExit();
        Assert.Equal(lines.Length, vocab.Tokens.Count);
        for (int i = 0; i < lines.Length; i++)
        {
            var parts = lines[i].Split('\t');
            Assert.Equal(parts[0], vocab.Tokens[i]);
            Assert.Equal(float.Parse(parts[1], CultureInfo.InvariantCulture), vocab.Scores![i]);
        }
        Assert.Equal((1, 2, 0), (vocab.BosId, vocab.EosId, vocab.UnknownId));
        Assert.Equal(GgufTokenType.Byte, vocab.Types[3 + 0x41]);
        Assert.Equal("<0x41>", vocab.Tokens[3 + 0x41]);
    }

    [SharedDataFact(Tok512)]
    public void Llama2cTokenizerBecomesASentencePieceVocabulary()
    {
        var vocab = Llama2cVocabulary.Read(SharedData.PathOf(Tok512), 512);
        Assert.Equal(512, vocab.Tokens.Count);
        Assert.Equal(["<unk>", "<s>", "</s>", "<0x00>"], vocab.Tokens.Take(4));
        Assert.Equal([GgufTokenType.Unknown, GgufTokenType.Control, GgufTokenType.Control, GgufTokenType.Byte], vocab.Types.Take(4));
        Assert.Equal("<0xFF>", vocab.Tokens[258]);
        Assert.DoesNotContain(vocab.Tokens, t => t.Contains(' '));
        Assert.Contains("▁the", vocab.Tokens);
    }

    [Fact]
    public void GarbageIsNotASentencePieceModel()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, [0x0A, 0xFF, 0xFF, 0xFF, 0x0F]);
            var e = Assert.Throws<EvoMergeException>(() => SentencePieceVocabulary.Read(path));
            Assert.Contains(path, e.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void ByteLevelTokenizerJsonBecomesAGpt2Vocabulary()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, """
                {"added_tokens":[{"id":4,"content":"<|endoftext|>","special":true}],
                 "model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2,"Ġa":3},"merges":["a b",["Ġ","a"]]}}
                """);
            var vocab = TokenizerJsonVocabulary.Read(path, "qwen2");
            Assert.Equal(["a", "b", "ab", "Ġa", "<|endoftext|>"], vocab.Tokens);
            Assert.Equal(GgufTokenType.Control, vocab.Types[4]);
            Assert.Equal(["a b", "Ġ a"], vocab.Merges!);
            Assert.Equal("gpt2", vocab.Model);
        }
        finally { File.Delete(path); }
    }
}

/// <summary>Needs the shared file and Debian's <c>spm_export_vocab</c> (package sentencepiece; .ci/run installs it).</summary>
public sealed class SpmExportVocabFactAttribute : FactAttribute
{
    public SpmExportVocabFactAttribute(string relativePath)
    {
        if (!SharedData.Has(relativePath)) Skip = $"shared data '{relativePath}' not found under {SharedData.DataRoot}";
        else if (!File.Exists("/usr/bin/spm_export_vocab")) Skip = "spm_export_vocab not found (apt-get install sentencepiece)";
    }
}
