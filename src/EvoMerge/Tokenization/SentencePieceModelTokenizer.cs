using Microsoft.ML.Tokenizers;
using EvoMerge.IO;

namespace EvoMerge.Tokenization;

/// <summary>
/// A SentencePiece <c>.model</c> file (Llama, Llama 2, Mistral) through Microsoft.ML.Tokenizers, byte fallback
/// included, so any UTF-8 text (Japanese too) encodes and decodes losslessly.
/// </summary>
public sealed class SentencePieceModelTokenizer : ITokenizer
{
    readonly SentencePieceTokenizer inner;

    SentencePieceModelTokenizer(SentencePieceTokenizer inner) => this.inner = inner;

    public static SentencePieceModelTokenizer Load(string path)
    {
        var bytes = InputFile.ReadAllBytes(path, InputFile.LargeFileBytes, "SentencePiece model");
        try
        {
            using var stream = new MemoryStream(bytes);
            return new SentencePieceModelTokenizer(LlamaTokenizer.Create(stream, addBeginOfSentence: false, addEndOfSentence: false));
        }
        catch (Exception e) when (e is not EvoMergeException)
        {
            throw new EvoMergeException($"{path}: not a readable SentencePiece model ({e.Message})");
        }
    }

    public int VocabSize => inner.Vocabulary.Count;
    public int? BosId => inner.BeginningOfSentenceId;
    public int? EosId => inner.EndOfSentenceId;

    public IReadOnlyList<int> Encode(string text, bool addBos) =>
        inner.EncodeToIds(text, addBeginningOfSentence: addBos, addEndOfSentence: false);

    public string Decode(IReadOnlyList<int> ids) => inner.Decode(ids) ?? "";
}
