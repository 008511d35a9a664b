using System.ComponentModel;
using EvoMerge.Cli.Eval;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EvoMerge.Cli.Commands;

/// <summary><c>evomerge eval &lt;model&gt; --task … --data …</c>: score a model on a task; see docs/eval.md.</summary>
public sealed class EvalCommand : Command<EvalCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<model>"), Description("Model folder (or cached Hugging Face id).")]
        public string Model { get; init; } = "";

        [CommandOption("--task <TASK>"), Description("mgsm, gsm8k, choice, perplexity or jsonl.")]
        public string Task { get; init; } = "";

        [CommandOption("--data <FILE>"), Description("The task's data file (format per task: see docs/eval.md).")]
        public string Data { get; init; } = "";

        [CommandOption("--limit <N>"), Description("Score only the first N items.")]
        public int? Limit { get; init; }

        [CommandOption("--sample <N>"), Description("Score a random sample of N items (seeded by --seed).")]
        public int? Sample { get; init; }

        [CommandOption("--seed <S>"), Description("Seed of --sample."), DefaultValue(0)]
        public int Seed { get; init; }

        [CommandOption("--indices <LIST>"), Description("Score exactly these items, e.g. 0,5,17 (0-based).")]
        public string? Indices { get; init; }

        [CommandOption("--shots <K>"), Description("Few-shot exemplars before each question."), DefaultValue(0)]
        public int Shots { get; init; }

        [CommandOption("--exemplars <FILE>"), Description("Exemplar file (default: mgsm_exemplars_XX.jsonl or train.jsonl beside --data).")]
        public string? Exemplars { get; init; }

        [CommandOption("--language <CODE>"), Description("Count a reply only if it is in this language (ISO 639-1, e.g. ja).")]
        public string? Language { get; init; }

        [CommandOption("--sakana-parity"), Description("Read numbers with Sakana's regex \\d*\\.?\\d+ (no sign; 1,000 reads 000).")]
        public bool SakanaParity { get; init; }

        [CommandOption("--template <TEXT>"), Description("Prompt template with {field} slots, or @file to read it from a file.")]
        public string? Template { get; init; }

        [CommandOption("--tokenizer <NAME>"), Description("vqa tasks: ROUGE-L tokens, char (default: one per CJK character) or mecab (mecab -Owakati).")]
        public string? Tokenizer { get; init; }

        [CommandOption("--num-beams <K>"), Description("vqa tasks: beam search with K beams (default 1: greedy; EvoVLM-JP used 5)."), DefaultValue(1)]
        public int NumBeams { get; init; } = 1;

        [CommandOption("--repetition-penalty <P>"), Description("vqa tasks: penalty on tokens already in the sequence (default 1: off; EvoVLM-JP used 1.5)."), DefaultValue(1f)]
        public float RepetitionPenalty { get; init; } = 1;

        [CommandOption("--match <MODE>"), Description("jsonl tasks: exact, number, regex or choice."), DefaultValue("exact")]
        public string Match { get; init; } = "exact";

        [CommandOption("--regex <PATTERN>"), Description("jsonl tasks with --match regex: the answer pattern (group 1 if any).")]
        public string? Regex { get; init; }

        [CommandOption("--answer-field <NAME>"), Description("jsonl tasks: the field with the gold answer."), DefaultValue("answer")]
        public string AnswerField { get; init; } = "answer";

        [CommandOption("--choice-prefix <TEXT>"), Description("Choice tasks: text between the prompt and each choice."), DefaultValue(" ")]
        public string ChoicePrefix { get; init; } = " ";

        [CommandOption("--max-new-tokens <N>"), Description("Generation limit per item."), DefaultValue(256)]
        public int MaxNewTokens { get; init; } = 256;

        [CommandOption("--batch-size <N>"), Description("Items per model call."), DefaultValue(8)]
        public int BatchSize { get; init; } = 8;

        [CommandOption("--out <FILE>"), Description("Write every item (prompt, output, extracted, gold, correct) to this JSONL file.")]
        public string? Out { get; init; }

        [CommandOption("--json"), Description("Print the result as one JSON object instead of a table.")]
        public bool Json { get; init; }

        [CommandOption("--device <DEVICE>"), Description("cpu, or cuda where libtorch has it."), DefaultValue("cpu")]
        public string Device { get; init; } = "cpu";

        [CommandOption("--dtype <TYPE>"), Description("f32 or bf16 (bf16 is fast on CPUs with bf16 units)."), DefaultValue("bf16")]
        public string DType { get; init; } = "bf16";
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken) =>
        EvalRun.Execute(settings, ModelOpener.Open, AnsiConsole.Console, cancellationToken);
}
