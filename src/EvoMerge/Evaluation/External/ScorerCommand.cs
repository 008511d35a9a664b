using System.Text.RegularExpressions;

namespace EvoMerge.Evaluation.External;

/// <summary>What happens when a run of a fitness command fails (non-zero exit, timeout, missing or malformed scores).</summary>
public enum FailurePolicy
{
    /// <summary>The evolution stops at the first failure; the candidate is not journaled, so <c>--resume</c> scores it again.</summary>
    Fail,
    /// <summary>The command is started again, up to <see cref="ScorerCommand.Retries"/> times; if the last try fails too, the evolution stops.</summary>
    Retry,
    /// <summary>After the retries, the candidate gets <see cref="ScorerCommand.SkipScore"/> on this task and the search goes on.</summary>
    Skip,
}

/// <summary>
/// A fitness computed by an external program (a diffusers pipeline with CLIP scoring, lm-eval-harness, vLLM, ...):
/// per candidate the model is written to a folder, the program runs on it and writes a JSON of scores
/// (<see cref="ScoreFile"/>). The program is started directly, never through a shell: <see cref="Arguments"/> are its
/// argument list, and a path put into <c>{model}</c> or <c>{out}</c> stays one argument whatever characters it holds.
/// </summary>
/// <param name="Arguments">The program, then its arguments; <c>{model}</c> and <c>{out}</c> anywhere in them are replaced per run.</param>
/// <param name="TimeoutSeconds">A run still going after this long is killed, with every process it started, and counts as failed.</param>
/// <param name="Retries">How many times a failed run is started again before the policy applies (0 with <see cref="FailurePolicy.Fail"/>).</param>
/// <param name="SkipScore">With <see cref="FailurePolicy.Skip"/>: the score a candidate gets when every try failed.</param>
public sealed partial record ScorerCommand(
    IReadOnlyList<string> Arguments,
    double TimeoutSeconds = ScorerCommand.DefaultTimeoutSeconds,
    int Retries = 0,
    FailurePolicy Policy = FailurePolicy.Fail,
    double? SkipScore = null)
{
    public const string ModelSlot = "{model}", OutSlot = "{out}";
    public const double DefaultTimeoutSeconds = 3600;

    /// <summary>The command as a user would type it (for messages and summaries).</summary>
    public string Text => CommandLine.Join(Arguments);

    /// <summary>The argument list of one run: every <c>{model}</c> and <c>{out}</c> replaced, in one pass (a path holding "{out}" stays as it is).</summary>
    public IReadOnlyList<string> For(string model, string output) =>
        Arguments.Select(a => Slot().Replace(a, m => m.Value == ModelSlot ? model : output)).ToList();

    /// <summary>
    /// What is wrong with the command, or null: the config key at fault (command, timeout, retries, policy or
    /// skip_score) and what it must be.
    /// </summary>
    public (string Key, string Message)? Problem() =>
        Arguments.Count == 0 || Arguments[0].Length == 0 ? ("command", "names no program")
        : !Arguments.Any(a => a.Contains(ModelSlot, StringComparison.Ordinal)) ? ("command", $"must pass {ModelSlot} (the candidate's model folder) to the program")
        : !Arguments.Any(a => a.Contains(OutSlot, StringComparison.Ordinal)) ? ("command", $"must pass {OutSlot} (the JSON file the program writes its scores to)")
        : !(TimeoutSeconds > 0 && double.IsFinite(TimeoutSeconds)) ? ("timeout", "must be a positive number of seconds")
        : Retries < 0 ? ("retries", "must not be negative")
        : Policy == FailurePolicy.Fail && Retries > 0 ? ("retries", "needs policy retry or skip (policy fail stops at the first failure)")
        : Policy == FailurePolicy.Skip && SkipScore is null ? ("policy", "skip needs skip_score: the score a candidate gets when every try failed")
        : SkipScore is double s && !double.IsFinite(s) ? ("skip_score", "must be a finite number")
        : null;

    [GeneratedRegex(@"\{(?:model|out)\}")]
    private static partial Regex Slot();
}
