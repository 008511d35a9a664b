using EvoMerge.Tokenization;
using EvoMerge.TestSupport;

namespace EvoMerge.Tests.Tokenization;

/// <summary>
/// llama2.c's tok512. That its encoder is llama2.c's is shown end to end by the stories260K golden test
/// (the published text encodes to exactly the tokens the model generates); here: byte fallback and edges.
/// </summary>
public class Llama2cTokenizerTests
{
    const string Tok512 = "models/stories260k/tok512.bin";

    [SharedDataFact(Tok512)]
    public void JapaneseRoundTripsThroughByteFallback()
    {
        var tok = Llama2cTokenizer.Load(SharedData.PathOf(Tok512), 512);
        const string text = "以下に、あるタスクを説明する指示があります。 Lily had 3 apples.";
        var ids = tok.Encode(text, addBos: true);
        Assert.Equal(1, ids[0]);
        // 512 pieces hold no kanji: each is spelled as its UTF-8 bytes, tokens 3 + byte.
        Assert.Contains(3 + 0xE4, ids);
        Assert.Equal(text, tok.Decode(ids));
    }

    [SharedDataFact(Tok512)]
    public void BosOnlyWhenAskedAndEmptyTextIsEmpty()
    {
        var tok = Llama2cTokenizer.Load(SharedData.PathOf(Tok512), 512);
        Assert.Empty(tok.Encode("", addBos: false));
        Assert.Equal([1], tok.Encode("", addBos: true));
        Assert.NotEqual(1, tok.Encode("Once", addBos: false)[0]);
        Assert.Equal((1, 2, 512), (tok.BosId, tok.EosId, tok.VocabSize));
    }

    [SharedDataFact(Tok512)]
    public void AVocabularySizeThatDoesNotMatchTheFileIsAUserError()
    {
        var e = Assert.Throws<EvoMergeException>(() => Llama2cTokenizer.Load(SharedData.PathOf(Tok512), 1000));
        Assert.Contains("tok512.bin", e.Message);
        Assert.Contains("vocab_size", e.Message);
        Assert.Throws<EvoMergeException>(() => Llama2cTokenizer.Load(SharedData.PathOf(Tok512), 100));
    }
}
