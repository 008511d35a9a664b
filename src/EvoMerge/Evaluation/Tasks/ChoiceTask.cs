using System.Globalization;

namespace EvoMerge.Evaluation.Tasks;

/// <summary>
/// Multiple choice by log-likelihood (as lm-evaluation-harness does it): the context is the rendered template, each
/// choice is scored as a continuation <c>prefix + choice</c>, and the most likely choice is the answer.
/// Reports <c>acc</c> and <c>acc_norm</c>, where each log-likelihood is divided by the choice's length in
/// characters (text elements) so that long choices are not penalised for having more tokens.
/// </summary>
public sealed class ChoiceTask : IEvalTask
{
    readonly IReadOnlyList<ChoiceItem> _items;
    readonly PromptTemplate _template;
    readonly string _choicePrefix;

    public string Name { get; }
    public int Count => _items.Count;
    public IReadOnlyList<ChoiceItem> Items => _items;

    /// <param name="choicePrefix">Put between the context and each choice (" " after "Answer:").</param>
    public ChoiceTask(string name, IReadOnlyList<ChoiceItem> items, PromptTemplate template, string choicePrefix = " ")
    {
        Name = name;
        _items = items;
        _template = template;
        _choicePrefix = choicePrefix;
        foreach (var item in items) template.Render(item.Fields, item.Source);
    }

    public EvalResult Evaluate(ILanguageModel model, Subset? subset = null, EvalRunOptions? run = null)
    {
        var results = BatchLoop.Run(subset, Count, run, batch =>
        {
            var contexts = batch.Select(i => _template.Render(_items[i].Fields, _items[i].Source)).ToArray();
            // All choices of all items in the batch go to the model in one call, so it can batch them together.
            var requests = batch.SelectMany((i, k) => _items[i].Choices.Select(c => new ContinuationRequest(contexts[k], _choicePrefix + c))).ToArray();
            var scores = BatchLoop.Expect(model.ScoreContinuations(requests), requests.Length, "scores");
            var scored = new ItemResult[batch.Length];
            for (int k = 0, offset = 0; k < batch.Length; offset += _items[batch[k]].Choices.Count, k++)
            {
                var item = _items[batch[k]];
                var lls = Enumerable.Range(offset, item.Choices.Count).Select(j => scores[j].LogLikelihood).ToArray();
                scored[k] = Score(batch[k], contexts[k], item, lls);
            }
            return scored;
        });
        return new EvalResult(Name, results,
        [
            Metric.Of("acc", Proportion.Count(results, r => r.Correct)),
            Metric.Of("acc_norm", Proportion.Count(results, r => r.CorrectNormalized == true)),
        ]);
    }

    static ItemResult Score(int index, string context, ChoiceItem item, double[] lls)
    {
        int best = ArgMax(lls);
        var normalized = lls.Select((ll, j) => ll / Math.Max(1, new StringInfo(item.Choices[j]).LengthInTextElements)).ToArray();
        return new ItemResult(index, context, item.Choices[best], best.ToString(CultureInfo.InvariantCulture),
            item.Choices[item.Label], best == item.Label,
            CorrectNormalized: ArgMax(normalized) == item.Label, ChoiceLogLikelihoods: lls);
    }

    /// <summary>First index of the maximum (ties go to the earlier choice, like numpy's argmax).</summary>
    static int ArgMax(double[] values)
    {
        int best = 0;
        for (int j = 1; j < values.Length; j++) if (values[j] > values[best]) best = j;
        return best;
    }
}
