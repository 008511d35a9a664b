using EvoMerge.IO;
namespace EvoMerge.Tokenization;

/// <summary>Picks the tokenizer of a model folder by the files in it.</summary>
public static class TokenizerFactory
{
    /// <summary>llama2.c's tokenizer, as <c>evomerge import llama2c</c> writes it into a model folder.</summary>
    public const string Llama2cFileName = "tokenizer.bin";

    /// <summary>
    /// <c>tokenizer.model</c> (SentencePiece) when present, else <c>tokenizer.json</c> (Hugging Face), else
    /// <c>tokenizer.bin</c> (llama2.c, which needs <paramref name="vocabSize"/> because the file does not store it).
    /// SentencePiece comes first because it is the original of Llama/Mistral's tokenizer.json.
    /// </summary>
    public static ITokenizer FromFolder(string folder, int vocabSize)
    {
        string Of(string name) => Path.Combine(folder, name);
        if (InputFile.Exists(Of("tokenizer.model"))) return SentencePieceModelTokenizer.Load(Of("tokenizer.model"));
        if (InputFile.Exists(Of("tokenizer.json"))) return HuggingFaceTokenizer.Load(Of("tokenizer.json"));
        if (InputFile.Exists(Of(Llama2cFileName))) return Llama2cTokenizer.Load(Of(Llama2cFileName), vocabSize);
        throw new EvoMergeException($"{folder}: no tokenizer (expected tokenizer.model, tokenizer.json or {Llama2cFileName})");
    }
}
