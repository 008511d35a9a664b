using EvoMerge.Evaluation.Answers;
using EvoMerge.Evaluation.External;

namespace EvoMerge.Evaluation;

public enum TaskKind { Mgsm, Gsm8k, Choice, Perplexity, Jsonl, Vqa, Command }

/// <summary>How a user task's answers are checked.</summary>
public enum AnswerMatch { Exact, Number, Regex, Choice }

/// <summary>
/// Everything that defines a task, as plain data, so the CLI, an evolution config and the demo describe tasks
/// the same way; <see cref="EvalTasks.Create"/> turns it into an <see cref="IEvalTask"/>. Null means the kind's default.
/// </summary>
/// <param name="Shots">Few-shot exemplars put before each question (the first N of the exemplar file).</param>
/// <param name="ExemplarsPath">MGSM: default <c>mgsm_exemplars_XX.jsonl</c> beside <c>mgsm_XX.tsv</c>; GSM8K: <c>train.jsonl</c> beside the data.</param>
/// <param name="Template">Prompt template text with <c>{field}</c> slots (required for <see cref="TaskKind.Jsonl"/>).</param>
/// <param name="Language">ISO 639-1 code: a reply counts only if it is in this language (generation tasks).</param>
/// <param name="SakanaParity">Read numbers exactly as Sakana's code does (<c>\d*\.?\d+</c>), for comparable numbers.</param>
/// <param name="AnswerField">User tasks: the field holding the gold answer.</param>
/// <param name="Regex">User tasks with <see cref="AnswerMatch.Regex"/>: the extraction pattern.</param>
/// <param name="ChoicesField">Choice tasks: the array field holding the choices.</param>
/// <param name="ChoicePrefix">Choice tasks: text between the context and each choice.</param>
/// <param name="WindowChars">Perplexity: characters scored per window.</param>
/// <param name="ContextChars">Perplexity: characters of preceding text given as context to each window.</param>
/// <param name="Tokenizer">Vqa: how ROUGE-L splits answers, "char" (default) or "mecab".</param>
/// <param name="Command">
/// <see cref="TaskKind.Command"/>: the external program that scores a model folder; <see cref="DataPath"/> is then
/// the folder it runs in (the config's folder). Run by an evaluator that writes candidates to disk, never on a
/// loaded model.
/// </param>
/// <param name="NumBeams">Vqa: beam search with this many beams (1 = greedy; EvoVLM-JP's evaluation used 5).</param>
/// <param name="RepetitionPenalty">Vqa: the CTRL repetition penalty (1 = off; EvoVLM-JP's evaluation used 1.5).</param>
public sealed record EvalTaskSpec(
    TaskKind Kind,
    string DataPath,
    int Shots = 0,
    string? ExemplarsPath = null,
    string? Template = null,
    string? Language = null,
    bool SakanaParity = false,
    int MaxNewTokens = 256,
    IReadOnlyList<string>? StopStrings = null,
    string AnswerField = "answer",
    AnswerMatch Match = AnswerMatch.Exact,
    string? Regex = null,
    string ChoicesField = "choices",
    string ChoicePrefix = " ",
    int WindowChars = 1024,
    int ContextChars = 1024,
    string? Tokenizer = null,
    ScorerCommand? Command = null,
    int NumBeams = 1,
    float RepetitionPenalty = 1f);
