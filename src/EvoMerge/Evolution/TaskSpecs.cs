using EvoMerge.Candidates;
using EvoMerge.Evaluation;
using EvoMerge.Evolution.Config;

namespace EvoMerge.Evolution;

/// <summary>From a fitness or test entry of evolve.yml to the evaluation engine's task description and item subset.</summary>
public static class TaskSpecs
{
    /// <summary>The task kinds evolve.yml accepts (the evaluation engine's <see cref="TaskKind"/>s).</summary>
    public static readonly string[] Kinds = ["mgsm", "gsm8k", "choice", "perplexity", "jsonl", "vqa"];

    /// <summary>The engine's spec of a task; a command task runs in the config's folder (its relative paths resolve there).</summary>
    public static EvalTaskSpec ToSpec(TaskConfig task, EvolutionConfig config)
    {
        if (task.Command is { } command) return new EvalTaskSpec(TaskKind.Command, Path.GetFullPath(config.BaseDirectory), Command: command);
        return new EvalTaskSpec(
            Kind: Enum.Parse<TaskKind>(task.Task, ignoreCase: true),
            DataPath: config.ResolveData(task.Data),
            Shots: task.Shots,
            Template: task.Template,
            Language: task.Language,
            MaxNewTokens: task.MaxNewTokens ?? 256,
            AnswerField: task.AnswerField ?? "answer",
            Match: task.Match is { } m ? Enum.Parse<AnswerMatch>(m, ignoreCase: true) : AnswerMatch.Exact,
            Regex: task.Regex,
            WindowChars: task.WindowChars ?? 1024,
            ContextChars: task.ContextChars ?? 1024,
            Tokenizer: task.Tokenizer,
            NumBeams: task.NumBeams ?? 1,
            RepetitionPenalty: (float)(task.RepetitionPenalty ?? 1));
    }

    /// <summary>
    /// A seeded minibatch when the request asks for one and the task has a size; else the first <c>limit</c> items or
    /// all (a command task's items are its program's).
    /// </summary>
    public static Subset SubsetOf(TaskConfig task, int? minibatchSeed) =>
        task.Command is not null ? Subset.All
        : minibatchSeed is int seed && task.Minibatch is int size ? Subset.Sample(size, seed)
        : task.Limit is int limit ? Subset.First(limit)
        : Subset.All;

    /// <summary>The tasks as an evaluator's work: each resolved to its spec and item subset.</summary>
    public static IReadOnlyList<TaskWork> Work(IReadOnlyList<TaskConfig> tasks, int? minibatchSeed, EvolutionConfig config) =>
        tasks.Select(t => new TaskWork(ToSpec(t, config), SubsetOf(t, minibatchSeed))).ToList();
}
