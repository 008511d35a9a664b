using System.Text;
using EvoMerge.Tokenization;

namespace EvoMerge.IO.Gguf;

/// <summary>
/// karpathy's llama2.c tokenizer (<c>tok512.bin</c>, <c>tokenizer.bin</c>) as a "llama" GGUF vocabulary. Its
/// export replaced SentencePiece's <c>▁</c> with a space and wrapped BOS/EOS in newlines; both are undone so that
/// llama.cpp sees the SentencePiece vocabulary it came from. Ids follow SentencePiece's defaults:
/// 0 = &lt;unk&gt;, 1 = &lt;s&gt;, 2 = &lt;/s&gt;, then the byte pieces &lt;0x00&gt;..&lt;0xFF&gt;.
/// </summary>
public static class Llama2cVocabulary
{
    public static GgufVocabulary Read(string path, int vocabSize)
    {
        var tokenizer = Llama2cTokenizer.Load(path, vocabSize);
        var tokens = new List<string>(vocabSize);
        var scores = new List<float>(vocabSize);
        var types = new List<GgufTokenType>(vocabSize);
        for (int i = 0; i < vocabSize; i++)
        {
            var (bytes, score) = tokenizer.Piece(i);
            string text = Encoding.UTF8.GetString(bytes);
            (string piece, GgufTokenType type) = i switch
            {
                0 => ("<unk>", GgufTokenType.Unknown),
                1 => ("<s>", GgufTokenType.Control),
                2 => ("</s>", GgufTokenType.Control),
                _ when text.Length == 6 && text.StartsWith("<0x", StringComparison.Ordinal) && text.EndsWith('>') => (text, GgufTokenType.Byte),
                _ => (text.Replace(' ', '▁'), GgufTokenType.Normal),
            };
            tokens.Add(piece);
            scores.Add(score);
            types.Add(type);
        }
        return new GgufVocabulary("llama", tokens, types, scores, null, 1, 2, 0);
    }
}
