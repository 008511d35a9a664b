namespace EvoMerge.Tokenization;

/// <summary>
/// One interface over the tokenizers EvoMerge reads: SentencePiece <c>.model</c> (Llama/Mistral, byte fallback),
/// Hugging Face <c>tokenizer.json</c>, and llama2.c's <c>tok*.bin</c>.
/// </summary>
public interface ITokenizer
{
    int VocabSize { get; }

    /// <summary>Beginning-of-sequence id, or null when the vocabulary has none.</summary>
    int? BosId { get; }

    /// <summary>End-of-sequence id, or null when the vocabulary has none.</summary>
    int? EosId { get; }

    IReadOnlyList<int> Encode(string text, bool addBos);

    string Decode(IReadOnlyList<int> ids);
}
