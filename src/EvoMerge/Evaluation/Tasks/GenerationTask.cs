using EvoMerge.Evaluation.Answers;

namespace EvoMerge.Evaluation.Tasks;

/// <summary>How a generation task prompts and decodes.</summary>
/// <param name="Template">The prompt of one item; few-shot exemplars are rendered with it too.</param>
/// <param name="Exemplars">Solved examples put before each prompt (as many as given: pick the shots before).</param>
/// <param name="MaxNewTokens">Generation limit per item (the paper used 1,024).</param>
/// <param name="StopStrings">Generation stops at the first of these (e.g. the start of the next few-shot question).</param>
/// <param name="LanguageGate">When set, an item is correct only if the reply is also in this language.</param>
public sealed record GenerationSettings(
    PromptTemplate Template,
    IReadOnlyList<Exemplar>? Exemplars = null,
    int MaxNewTokens = 256,
    IReadOnlyList<string>? StopStrings = null,
    LanguageGate? LanguageGate = null);

/// <summary>
/// A task answered by free generation: render each item's prompt, generate greedily in batches, read the answer
/// out of the reply with an <see cref="IAnswerMatcher"/>, optionally require the reply's language.
/// MGSM, GSM8K and user JSONL tasks (exact / number / regex) are all this class with different data and matchers.
/// </summary>
public sealed class GenerationTask : IEvalTask
{
    readonly IReadOnlyList<TaskItem> _items;
    readonly IAnswerMatcher _matcher;
    readonly GenerationSettings _settings;
    readonly string _shotPrefix;

    public string Name { get; }
    public int Count => _items.Count;
    public IReadOnlyList<TaskItem> Items => _items;

    public GenerationTask(string name, IReadOnlyList<TaskItem> items, IAnswerMatcher matcher, GenerationSettings settings)
    {
        Name = name;
        _items = items;
        _matcher = matcher;
        _settings = settings;
        foreach (var item in items)
        {
            matcher.ValidateGold(item.Gold, item.Source);
            settings.Template.Render(item.Fields, item.Source); // fail on a missing field now, not after an hour of generation
        }
        // Exemplars are the same for every item: render their block once. Layout: prompt, newline, solution, blank line.
        _shotPrefix = string.Concat((settings.Exemplars ?? []).Select(e => settings.Template.Render(e.Fields, e.Source) + "\n" + e.Solution + "\n\n"));
    }

    /// <summary>The full prompt of item <paramref name="index"/>, few-shot block included.</summary>
    public string PromptOf(int index) => _shotPrefix + _settings.Template.Render(_items[index].Fields, _items[index].Source);

    public EvalResult Evaluate(ILanguageModel model, Subset? subset = null, EvalRunOptions? run = null)
    {
        var options = new GenerationOptions(MaxNewTokens: _settings.MaxNewTokens, StopStrings: _settings.StopStrings);
        var results = BatchLoop.Run(subset, Count, run, batch =>
        {
            var prompts = batch.Select(PromptOf).ToArray();
            var outputs = BatchLoop.Expect(model.Generate(prompts, options), prompts.Length, "replies");
            return batch.Select((index, k) => Score(index, prompts[k], outputs[k])).ToArray();
        });
        return new EvalResult(Name, results, Metrics(results));
    }

    ItemResult Score(int index, string prompt, string output)
    {
        string gold = _items[index].Gold;
        var answer = _matcher.Check(output, gold);
        if (_settings.LanguageGate is not { } gate)
            return new ItemResult(index, prompt, output, answer.Extracted, gold, answer.Correct);
        var (language, passes) = gate.Check(output);
        return new ItemResult(index, prompt, output, answer.Extracted, gold, answer.Correct && passes,
            AnswerCorrect: answer.Correct, Language: language, InLanguage: passes);
    }

    IReadOnlyList<Metric> Metrics(List<ItemResult> results)
    {
        var metrics = new List<Metric> { Metric.Of("acc", Proportion.Count(results, r => r.Correct)) };
        if (_settings.LanguageGate is { } gate)
        {
            metrics.Add(Metric.Of("acc_any_language", Proportion.Count(results, r => r.AnswerCorrect == true)));
            metrics.Add(Metric.Of($"in_{gate.TargetCode}", Proportion.Count(results, r => r.InLanguage == true)));
        }
        return metrics;
    }
}
