namespace EvoMerge.Evaluation.Rouge;

/// <summary>Splits answers into the units ROUGE-L counts. Batched, because an external tokenizer starts once per batch.</summary>
public interface IAnswerTokenizer
{
    string Name { get; }
    IReadOnlyList<IReadOnlyList<string>> Tokenize(IReadOnlyList<string> texts);
}

/// <summary>The tokenizers a vqa task can name.</summary>
public static class AnswerTokenizers
{
    public static IAnswerTokenizer Create(string? name) => name switch
    {
        null or "char" => new CharacterTokenizer(),
        "mecab" => new MecabTokenizer(),
        _ => throw new EvoMergeException($"--tokenizer '{name}' is not known; expected char (default) or mecab"),
    };
}
