using System.Text;

namespace EvoMerge.IO.Gguf;

/// <summary>
/// Reads karpathy's llama2.c tokenizer export (<c>tok512.bin</c>, <c>tokenizer.bin</c>): int32 max token length,
/// then per token a float32 score, an int32 byte length and the UTF-8 bytes. That export replaced SentencePiece's
/// <c>▁</c> with a space and wrapped BOS/EOS in newlines; both are undone so llama.cpp sees a SentencePiece vocabulary.
/// Ids follow SentencePiece's defaults: 0 = &lt;unk&gt;, 1 = &lt;s&gt;, 2 = &lt;/s&gt;.
/// </summary>
public static class Llama2cVocabulary
{
    public static GgufVocabulary Read(string path, int vocabSize)
    {
        var tokens = new List<string>(vocabSize);
        var scores = new List<float>(vocabSize);
        var types = new List<GgufTokenType>(vocabSize);
        using (var reader = new BinaryReader(File.OpenRead(path)))
        {
            try
            {
                reader.ReadInt32(); // max token length: only a buffer size for llama2.c's C code
                for (int i = 0; i < vocabSize; i++)
                {
                    scores.Add(reader.ReadSingle());
                    int length = reader.ReadInt32();
                    if (length < 0 || length > 1 << 16) throw new EvoMergeException($"{path}: token {i} has byte length {length}; expected 0..65536");
                    string text = Encoding.UTF8.GetString(reader.ReadBytes(length));
                    (string piece, GgufTokenType type) = i switch
                    {
                        0 => ("<unk>", GgufTokenType.Unknown),
                        1 => ("<s>", GgufTokenType.Control),
                        2 => ("</s>", GgufTokenType.Control),
                        _ when text.Length == 6 && text.StartsWith("<0x", StringComparison.Ordinal) && text.EndsWith('>') => (text, GgufTokenType.Byte),
                        _ => (text.Replace(' ', '▁'), GgufTokenType.Normal),
                    };
                    tokens.Add(piece);
                    types.Add(type);
                }
            }
            catch (EndOfStreamException)
            {
                throw new EvoMergeException($"{path}: ends after {tokens.Count} tokens; expected {vocabSize} (the model's vocab_size)");
            }
        }
        return new GgufVocabulary("llama", tokens, types, scores, null, 1, 2, 0);
    }
}
