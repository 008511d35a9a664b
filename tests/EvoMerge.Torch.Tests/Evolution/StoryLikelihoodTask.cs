using EvoMerge.Evaluation;

namespace EvoMerge.Torch.Tests.Evolution;

/// <summary>
/// Fitness = mean log-likelihood per token of stories sampled from a target model, each scored after its own opening
/// exactly as it was generated. Its expectation is highest at the target's own distribution (Gibbs' inequality).
/// </summary>
sealed class StoryLikelihoodTask(IReadOnlyList<ContinuationRequest> stories) : IEvalTask
{
    public string Name => "stories";
    public int Count => stories.Count;

    public EvalResult Evaluate(ILanguageModel model, Subset? subset = null, EvalRunOptions? run = null)
    {
        var chosen = (subset ?? Subset.All).Resolve(stories.Count).Select(i => stories[i]).ToList();
        var scores = model.ScoreContinuations(chosen);
        double perToken = scores.Sum(s => s.LogLikelihood) / scores.Sum(s => s.TokenCount);
        return new EvalResult(Name, [], [new Metric("log_likelihood_per_token", perToken)]);
    }
}
