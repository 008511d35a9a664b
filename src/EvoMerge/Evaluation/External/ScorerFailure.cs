namespace EvoMerge.Evaluation.External;

/// <summary>
/// One failed try of a fitness command, as the journal keeps it: which task of the candidate's work, which try,
/// what went wrong, and the last lines the program wrote to standard error.
/// </summary>
/// <param name="Task">Index of the task in the work's task list (the fitness or test list of the config).</param>
/// <param name="Try">1 for the first run, 2 for the first retry, ...</param>
/// <param name="Skipped">This was the last try and policy skip gave the candidate the skip score.</param>
public sealed record ScorerFailure(int Task, int Try, string Error, IReadOnlyList<string> Stderr, bool Skipped = false);
