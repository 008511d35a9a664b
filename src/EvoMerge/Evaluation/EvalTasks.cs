using System.Text.RegularExpressions;
using EvoMerge.Evaluation.Answers;
using EvoMerge.Evaluation.Data;
using EvoMerge.Evaluation.Tasks;

namespace EvoMerge.Evaluation;

/// <summary>Builds tasks from <see cref="EvalTaskSpec"/>s: each kind's data loader, default prompt and answer check.</summary>
public static partial class EvalTasks
{
    /// <summary>lm-evaluation-harness's GSM8K layout; exemplar solutions follow "Answer:" and end in "#### N".</summary>
    public const string Gsm8kTemplate = "Question: {question}\nAnswer:";

    public const string ChoiceTemplate = "{question}\nAnswer:";

    public static IEvalTask Create(EvalTaskSpec spec)
    {
        if (spec.Shots < 0) throw new EvoMergeException($"--shots must not be negative (got {spec.Shots})");
        bool generates = spec.Kind is TaskKind.Mgsm or TaskKind.Gsm8k or TaskKind.Vqa || spec.Kind == TaskKind.Jsonl && spec.Match != AnswerMatch.Choice;
        if (spec.Language != null && !generates)
            throw new EvoMergeException("--language applies to generated replies only (tasks mgsm, gsm8k, jsonl without --match choice)");
        return spec.Kind switch
        {
            TaskKind.Mgsm => Generation("mgsm", MgsmData.LoadTsv(spec.DataPath), spec, PromptTemplate.SakanaJapaneseMath, ["### 指示:"],
                spec.Shots > 0 ? MgsmData.LoadExemplars(spec.ExemplarsPath ?? MgsmExemplarsBeside(spec.DataPath)) : []),
            TaskKind.Gsm8k => Generation("gsm8k", Gsm8kData.Load(spec.DataPath), spec, Gsm8kTemplate, ["Question:"],
                spec.Shots > 0 ? Gsm8kData.LoadExemplars(spec.ExemplarsPath ?? Beside(spec.DataPath, "train.jsonl")) : []),
            TaskKind.Choice => new ChoiceTask("choice", ChoiceData.Load(spec.DataPath, spec.ChoicesField),
                new PromptTemplate(spec.Template ?? ChoiceTemplate), spec.ChoicePrefix),
            TaskKind.Perplexity => new PerplexityTask("perplexity", DataFile.ReadAllText(spec.DataPath), spec.WindowChars, spec.ContextChars),
            TaskKind.Jsonl => UserTask(spec),
            TaskKind.Vqa => new Tasks.VqaTask(Path.GetFileNameWithoutExtension(spec.DataPath), VqaData.Load(spec.DataPath),
                new PromptTemplate(spec.Template is { } t ? Tasks.VqaTask.Preset(t) ?? t : Tasks.VqaTask.DefaultTemplate),
                Rouge.AnswerTokenizers.Create(spec.Tokenizer), spec.Language == null ? null : new LanguageGate(spec.Language),
                spec.MaxNewTokens, spec.StopStrings, spec.NumBeams, spec.RepetitionPenalty),
            TaskKind.Command => throw new EvoMergeException(
                $"the fitness command '{spec.Command?.Text}' scores a model folder written to disk, not a loaded model; evomerge evolve runs it (docs/evolution.md)"),
            _ => throw new ArgumentOutOfRangeException(nameof(spec)),
        };
    }

    static IEvalTask UserTask(EvalTaskSpec spec)
    {
        string template = spec.Template
            ?? throw new EvoMergeException("task jsonl needs a prompt template (--template '…{field}…' or --template @file)");
        string name = Path.GetFileNameWithoutExtension(spec.DataPath);
        if (spec.Match == AnswerMatch.Choice)
            return new ChoiceTask(name, ChoiceData.Load(spec.DataPath, spec.ChoicesField), new PromptTemplate(template), spec.ChoicePrefix);
        var items = UserData.Load(spec.DataPath, spec.AnswerField);
        var exemplars = spec.Shots > 0
            ? UserData.Load(spec.ExemplarsPath ?? throw new EvoMergeException("task jsonl with --shots needs --exemplars (a JSONL file like the data)"), spec.AnswerField)
                .Select(i => new Exemplar(i.Fields, i.Gold, i.Source)).ToArray()
            : [];
        return Generation(name, items, spec, template, [], exemplars);
    }

    static GenerationTask Generation(string name, IReadOnlyList<TaskItem> items, EvalTaskSpec spec, string defaultTemplate,
        IReadOnlyList<string> defaultStops, IReadOnlyList<Exemplar> exemplars)
    {
        if (spec.Shots > exemplars.Count)
            throw new EvoMergeException($"--shots {spec.Shots} asks for more exemplars than the exemplar file has ({exemplars.Count})");
        var settings = new GenerationSettings(
            new PromptTemplate(spec.Template ?? defaultTemplate),
            exemplars.Take(spec.Shots).ToArray(),
            spec.MaxNewTokens,
            spec.StopStrings ?? defaultStops,
            spec.Language == null ? null : new LanguageGate(spec.Language));
        return new GenerationTask(name, items, MatcherFor(spec), settings);
    }

    static IAnswerMatcher MatcherFor(EvalTaskSpec spec) => spec.Kind switch
    {
        TaskKind.Mgsm or TaskKind.Gsm8k => new NumberMatcher(spec.SakanaParity ? NumberExtraction.SakanaParity : NumberExtraction.Standard),
        _ => spec.Match switch
        {
            AnswerMatch.Exact => new ExactMatcher(),
            AnswerMatch.Number => new NumberMatcher(spec.SakanaParity ? NumberExtraction.SakanaParity : NumberExtraction.Standard),
            AnswerMatch.Regex => new RegexMatcher(spec.Regex ?? throw new EvoMergeException("--match regex needs --regex PATTERN")),
            _ => throw new ArgumentOutOfRangeException(nameof(spec)),
        },
    };

    [GeneratedRegex(@"^mgsm_([a-z]{2})\.tsv$")]
    private static partial Regex MgsmFileName();

    static string MgsmExemplarsBeside(string dataPath)
    {
        var m = MgsmFileName().Match(Path.GetFileName(dataPath));
        if (!m.Success)
            throw new EvoMergeException($"cannot guess the exemplar file for '{dataPath}' (expected a name like mgsm_ja.tsv): pass --exemplars");
        return Beside(dataPath, $"mgsm_exemplars_{m.Groups[1].Value}.jsonl");
    }

    static string Beside(string dataPath, string fileName) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(dataPath))!, fileName);
}
