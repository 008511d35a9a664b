using EvoMerge.Evaluation;

namespace EvoMerge.Tests.Evaluation;

/// <summary>
/// A stand-in language model with known answers, so task tests check the task (prompting, extraction, scoring,
/// batching), not a model. Replies are looked up by a substring of the prompt; log-likelihoods come from a function.
/// </summary>
sealed class ScriptedModel(
    Func<string, string>? reply = null,
    Func<ContinuationRequest, ContinuationScore>? score = null) : ILanguageModel
{
    public List<int> GenerateBatchSizes { get; } = [];
    public List<string> Prompts { get; } = [];
    public List<GenerationOptions> Options { get; } = [];
    public List<ContinuationRequest> Requests { get; } = [];

    public IReadOnlyList<string> Generate(IReadOnlyList<string> prompts, GenerationOptions options)
    {
        GenerateBatchSizes.Add(prompts.Count);
        Prompts.AddRange(prompts);
        Options.Add(options);
        return prompts.Select(reply ?? throw new InvalidOperationException("no replies scripted")).ToArray();
    }

    public IReadOnlyList<ContinuationScore> ScoreContinuations(IReadOnlyList<ContinuationRequest> requests)
    {
        Requests.AddRange(requests);
        return requests.Select(score ?? throw new InvalidOperationException("no scores scripted")).ToArray();
    }

    /// <summary>Replies chosen by which question the prompt ends with (few-shot prompts contain other questions too).</summary>
    public static ScriptedModel Replying(params (string QuestionEnd, string Reply)[] script) =>
        new(prompt => script.First(s => prompt.Contains(s.QuestionEnd + "\n\n### 応答:") || prompt.EndsWith(s.QuestionEnd, StringComparison.Ordinal)
            || prompt.Contains(s.QuestionEnd + "\nAnswer:")).Reply);
}
