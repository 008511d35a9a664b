namespace EvoMerge.Evaluation;

/// <summary>
/// The runner seam between evaluation and a model runtime. Evaluation tasks only ask for text and
/// log-likelihoods; EvoMerge.Torch implements this in-process, and a remote worker could implement it too.
/// </summary>
public interface ILanguageModel
{
    /// <summary>Completes each prompt (batched by the implementation); returns the new text only.</summary>
    IReadOnlyList<string> Generate(IReadOnlyList<string> prompts, GenerationOptions options);

    /// <summary>
    /// Sum of log-probabilities (natural log) of each continuation's tokens given its context. An empty context means
    /// the start of a text (BOS only); perplexity windows and choices rely on that.
    /// </summary>
    IReadOnlyList<ContinuationScore> ScoreContinuations(IReadOnlyList<ContinuationRequest> requests);
}

/// <param name="MaxNewTokens">Upper bound on generated tokens per prompt.</param>
/// <param name="Temperature">0 means greedy.</param>
/// <param name="TopP">Nucleus sampling mass (1 = off).</param>
/// <param name="Seed">Seed of the sampler (ignored when greedy).</param>
/// <param name="StopStrings">Generation of a prompt ends at the first of these; the stop string is not returned.</param>
public sealed record GenerationOptions(
    int MaxNewTokens = 256,
    float Temperature = 0f,
    float TopP = 1f,
    int Seed = 0,
    IReadOnlyList<string>? StopStrings = null,
    int NumBeams = 1,
    float RepetitionPenalty = 1f);

public readonly record struct ContinuationRequest(string Context, string Continuation);

/// <param name="LogLikelihood">Sum of natural-log probabilities of the continuation's tokens.</param>
/// <param name="TokenCount">Number of continuation tokens (for per-token averages and perplexity).</param>
/// <param name="IsGreedy">Whether every continuation token was the argmax (lm-eval's "is_greedy").</param>
public readonly record struct ContinuationScore(double LogLikelihood, int TokenCount, bool IsGreedy);
