using EvoMerge.Demo;

namespace EvoMerge.Demo.Tests;

public class CharacterTokenizerTests
{
    [Fact]
    public void EveryLineOfTheWorldRoundTrips()
    {
        var tok = new CharacterTokenizer();
        var world = new MiniatureWorld();
        var mixes = new[] { LineMix.Base, LineMix.Japanese, LineMix.EnglishMath };
        foreach (var line in mixes.SelectMany(m => world.Lines(m, 11).Take(2000)))
        {
            var ids = tok.Encode(line, addBos: true);
            Assert.Equal(1, ids[0]);
            Assert.Equal(line.Length + 1, ids.Count);
            Assert.Equal(line, tok.Decode(ids));
        }
        Assert.InRange(tok.VocabSize, 3 + 1 + 95, 260); // specials, newline, printable ASCII, some Japanese
    }

    [Fact]
    public void UnknownCharacterIsAClearError()
    {
        var e = Assert.Throws<EvoMergeException>(() => new CharacterTokenizer().Encode("猫", false));
        Assert.Contains("猫", e.Message);
    }

    // Hugging Face's own tokenizer library (Rust, through Tokenizers.DotNet) reads the shipped tokenizer.json
    // and must give the same ids, BOS included, and decode them back.
    [Fact]
    public void HuggingFaceTokenizersReadsTheSameIds()
    {
        var tok = new CharacterTokenizer();
        var dir = Directory.CreateTempSubdirectory("evomerge-chartok");
        try
        {
            tok.WriteHuggingFaceFiles(dir.FullName);
            using var hf = new Tokenizers.DotNet.Tokenizer(Path.Combine(dir.FullName, "tokenizer.json"));
            foreach (var line in new MiniatureWorld().Lines(LineMix.Base, 5).Take(300))
            {
                var ours = tok.Encode(line, addBos: true);
                var theirs = hf.Encode(line).Select(i => (int)i).ToList();
                Assert.Equal(ours, theirs);
                Assert.Equal(line, hf.Decode(theirs.Skip(1).Select(i => (uint)i).ToArray()));
            }
        }
        finally { dir.Delete(recursive: true); }
    }
}
