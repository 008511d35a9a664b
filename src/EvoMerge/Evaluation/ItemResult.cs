namespace EvoMerge.Evaluation;

/// <summary>
/// One scored item, as written to the items JSONL. Fields that a kind of task does not produce stay null
/// (and are left out of the JSON).
/// </summary>
/// <param name="Index">The item's position in the task (0-based), so a subset's results can be joined back.</param>
/// <param name="Prompt">What the model saw (for choice tasks the shared context of all choices).</param>
/// <param name="Output">The model's reply; for choice tasks the chosen choice; for perplexity the scored text.</param>
/// <param name="Extracted">The answer read out of the output (a number, a regex capture, a choice index).</param>
/// <param name="Gold">The expected answer as written in the data.</param>
/// <param name="Correct">Whether the item counts as solved (answer right and, with a language gate, language right);
/// for perplexity windows, whether every token was the model's top choice.</param>
/// <param name="AnswerCorrect">With a language gate: whether the answer alone was right.</param>
/// <param name="Language">With a language gate: the most likely language of the output (ISO 639-1), or null.</param>
/// <param name="InLanguage">With a language gate: whether the output passed it (target confidence above the threshold).</param>
/// <param name="CorrectNormalized">Choice tasks: correctness when log-likelihoods are divided by choice length.</param>
/// <param name="ChoiceLogLikelihoods">Choice tasks: the log-likelihood of each choice.</param>
/// <param name="LogLikelihood">Perplexity: log-likelihood of the scored text.</param>
/// <param name="TokenCount">Perplexity: tokens in the scored text.</param>
/// <param name="Score">Graded tasks (vqa): the item's score, e.g. ROUGE-L F1 ×100.</param>
public sealed record ItemResult(
    int Index,
    string Prompt,
    string Output,
    string? Extracted,
    string Gold,
    bool Correct,
    bool? AnswerCorrect = null,
    string? Language = null,
    bool? InLanguage = null,
    bool? CorrectNormalized = null,
    IReadOnlyList<double>? ChoiceLogLikelihoods = null,
    double? LogLikelihood = null,
    int? TokenCount = null,
    double? Score = null);
