using System.Globalization;
using EvoMerge.Cli.Commands;
using EvoMerge.Evaluation;
using Spectre.Console;
using EvoMerge.IO;

namespace EvoMerge.Cli.Eval;

/// <summary>
/// What <c>evomerge eval</c> does: build the task and subset from the flags (before the model loads, so a typo
/// fails in a second), open the model, score with a progress bar, stream items to JSONL, print the metrics.
/// </summary>
static class EvalRun
{
    public static int Execute(EvalCommand.Settings settings, Func<ModelRequest, IProgress<double>?, ILanguageModel> openModel,
        IAnsiConsole console, CancellationToken cancellation)
    {
        var task = EvalTasks.Create(SpecOf(settings));
        var subset = SubsetOf(settings);
        int count = subset.Resolve(task.Count).Length;
        var request = new ModelRequest(settings.Model, settings.Device, settings.DType, settings.BatchSize);
        using var items = settings.Out == null ? null : new ItemJsonlWriter(settings.Out);
        ILanguageModel? model = null;
        try
        {
            EvalResult Evaluate(ILanguageModel loaded, IProgress<EvalProgress>? progress) => task.Evaluate(loaded, subset,
                new EvalRunOptions(settings.BatchSize, progress, items == null ? null : items.Write, cancellation));

            EvalResult result;
            if (settings.Json)
            {
                model = openModel(request, null);
                result = Evaluate(model, null);
            }
            else
                result = console.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                    .Start(ctx =>
                    {
                        var loading = ctx.AddTask($"loading {settings.Model}".EscapeMarkup(), maxValue: 1);
                        var opened = model = openModel(request, new SyncProgress<double>(f => loading.Value = f));
                        loading.Value = 1;
                        var scoring = ctx.AddTask($"{task.Name}: {count} items", maxValue: Math.Max(1, count));
                        return Evaluate(opened, new SyncProgress<EvalProgress>(p => scoring.Value = p.Done));
                    });
            items?.Complete();
            EvalReport.Print(console, result, settings);
            return 0;
        }
        catch (OperationCanceledException)
        {
            throw new EvoMergeException("eval cancelled" + (settings.Out == null ? "" : $"; {settings.Out} not written"));
        }
        finally { (model as IDisposable)?.Dispose(); }
    }

    static EvalTaskSpec SpecOf(EvalCommand.Settings s) => new(
        Kind: ParseEnum<TaskKind>(s.Task, "--task", "mgsm, gsm8k, choice, perplexity, jsonl or vqa"),
        DataPath: s.Data.Length > 0 ? s.Data : throw new EvoMergeException("--data <FILE> is required (the task's data file)"),
        Shots: s.Shots,
        ExemplarsPath: s.Exemplars,
        Template: s.Template is ['@', .. var file] ? ReadTemplate(file) : s.Template,
        Language: s.Language,
        SakanaParity: s.SakanaParity,
        MaxNewTokens: s.MaxNewTokens,
        AnswerField: s.AnswerField,
        Match: ParseEnum<AnswerMatch>(s.Match, "--match", "exact, number, regex or choice"),
        Regex: s.Regex,
        ChoicePrefix: s.ChoicePrefix,
        Tokenizer: s.Tokenizer,
        NumBeams: s.NumBeams,
        RepetitionPenalty: s.RepetitionPenalty);

    static Subset SubsetOf(EvalCommand.Settings s)
    {
        int given = (s.Limit != null ? 1 : 0) + (s.Sample != null ? 1 : 0) + (s.Indices != null ? 1 : 0);
        if (given > 1) throw new EvoMergeException("--limit, --sample and --indices choose the items in different ways: give one");
        if (s.Limit is { } limit) return Subset.First(limit);
        if (s.Sample is { } sample) return Subset.Sample(sample, s.Seed);
        if (s.Indices is { } list)
            return Subset.Indices(list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(x => int.TryParse(x, NumberStyles.None, CultureInfo.InvariantCulture, out int i) ? i
                    : throw new EvoMergeException($"--indices: '{x}' is not an item index (expected e.g. 0,5,17)"))
                .ToArray());
        return Subset.All;
    }

    static T ParseEnum<T>(string text, string option, string expected) where T : struct, Enum =>
        Enum.TryParse<T>(text, ignoreCase: true, out var value) && Enum.IsDefined(value) && !char.IsDigit(text.FirstOrDefault())
            ? value
            : throw new EvoMergeException($"{option} '{text}' is not known (expected {expected})");

    static string ReadTemplate(string file) => InputFile.ReadAllText(file, InputFile.SmallFileBytes, "--template file");
}
