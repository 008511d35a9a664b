using EvoMerge.Evaluation.Data;
using EvoMerge.Evaluation.Rouge;

namespace EvoMerge.Evaluation.Tasks;

/// <summary>
/// Visual question answering scored by ROUGE-L F1 ×100 (the EvoVLM-JP paper's metric): each item's prompt holds its
/// image, the reply is compared with every accepted answer and the best F1 counts. With a language gate, a reply
/// not in the target language counts as empty (F1 0), the paper's rule. The task's score is the mean over items.
/// A text-only model is asked the question without the image (its <c>&lt;image&gt;</c> mark removed): the blind
/// baseline of a VLM+LLM merge's text source.
/// Items with a <c>key</c> field (the answer's key word: a colour, a count with its counter, a kind) also get the
/// exact-match metric <c>key_match</c>: the reply, after the gate, begins with the key and no digit follows it.
/// </summary>
public sealed class VqaTask : IEvalTask
{
    /// <summary>
    /// The Japanese VQA preset: the system prompt of the EvoVLM-JP release's example, then the image and question
    /// in Mistral-instruct form (the base model of LLaVA-1.6-Mistral and shisa-gamma); the runtime adds BOS.
    /// </summary>
    public const string JapanesePreset =
        "[INST] あなたは役立つ、偏見がなく、検閲されていないアシスタントです。与えられた画像を下に、質問に答えてください。\n\n<image>\n{question} [/INST]";

    /// <summary>A plain English default: the image, the question, and "Answer:".</summary>
    public const string DefaultTemplate = "<image>\n{question}\nAnswer:";

    /// <summary>Named templates for <c>--template</c>.</summary>
    public static string? Preset(string name) => name switch
    {
        "evovlm-ja" => JapanesePreset,
        "plain" => DefaultTemplate,
        _ => null,
    };

    readonly IReadOnlyList<VqaItem> _items;
    readonly PromptTemplate _template;
    readonly IAnswerTokenizer _tokenizer;
    readonly LanguageGate? _gate;
    readonly int _maxNewTokens, _numBeams;
    readonly float _repetitionPenalty;
    readonly IReadOnlyList<string> _stops;

    public string Name { get; }
    public int Count => _items.Count;

    public VqaTask(string name, IReadOnlyList<VqaItem> items, PromptTemplate template, IAnswerTokenizer tokenizer,
        LanguageGate? gate, int maxNewTokens = 64, IReadOnlyList<string>? stops = null, int numBeams = 1, float repetitionPenalty = 1f)
    {
        if (!template.Text.Contains(IVisionLanguageModel.ImagePlaceholder, StringComparison.Ordinal))
            throw new EvoMergeException($"task vqa: the prompt template must place the image with '{IVisionLanguageModel.ImagePlaceholder}'");
        Name = name;
        _items = items;
        _template = template;
        _tokenizer = tokenizer;
        _gate = gate;
        _maxNewTokens = maxNewTokens;
        (_numBeams, _repetitionPenalty) = (numBeams, repetitionPenalty);
        _stops = stops ?? [];
        foreach (var item in items) template.Render(item.Fields, item.Source);
    }

    public EvalResult Evaluate(ILanguageModel model, Subset? subset = null, EvalRunOptions? run = null)
    {
        // A text LLM (a VLM+LLM merge's source) answers blind: the question without the image, a language-prior baseline.
        var vlm = model as IVisionLanguageModel;
        var options = new GenerationOptions(MaxNewTokens: _maxNewTokens, StopStrings: _stops, NumBeams: _numBeams, RepetitionPenalty: _repetitionPenalty);
        var results = BatchLoop.Run(subset, Count, run, batch =>
        {
            var prompts = batch.Select(i => _template.Render(_items[i].Fields, _items[i].Source)).Select((text, k) => vlm != null
                ? new VisionPrompt(text, [_items[batch[k]].ImagePath])
                : new VisionPrompt(text.Replace(IVisionLanguageModel.ImagePlaceholder + "\n", "").Replace(IVisionLanguageModel.ImagePlaceholder, ""), [])).ToArray();
            var outputs = BatchLoop.Expect(vlm != null ? vlm.Generate(prompts, options) : model.Generate(prompts.Select(p => p.Text).ToArray(), options),
                prompts.Length, "replies");
            return Score(batch, prompts, outputs);
        });
        double mean = results.Count == 0 ? 0 : results.Average(r => r.Score!.Value);
        var metrics = new List<Metric> { new("rouge_l", mean) };
        if (results.Count > 0 && results.All(r => r.AnswerCorrect.HasValue))
            metrics.Add(Metric.Of("key_match", Proportion.Count(results, r => r.AnswerCorrect == true)));
        if (_gate is { } gate)
            metrics.Add(Metric.Of($"in_{gate.TargetCode}", Proportion.Count(results, r => r.InLanguage == true)));
        return new EvalResult(Name, results, metrics);
    }

    /// <summary>The optional item field holding the answer's key word.</summary>
    public const string KeyField = "key";

    /// <summary>Exact match of a key word: the trimmed reply starts with it, not followed by a digit ("3" is not "30").</summary>
    public static bool KeyMatches(string reply, string key)
    {
        string r = reply.Trim();
        return key.Length > 0 && r.StartsWith(key, StringComparison.Ordinal) && (r.Length == key.Length || !char.IsDigit(r[key.Length]));
    }

    IReadOnlyList<ItemResult> Score(IReadOnlyList<int> batch, VisionPrompt[] prompts, IReadOnlyList<string> outputs)
    {
        var results = new ItemResult[batch.Count];
        var texts = new List<string>();
        for (int k = 0; k < batch.Count; k++)
        {
            texts.Add(outputs[k].Trim());
            texts.AddRange(_items[batch[k]].Answers);
        }
        var tokens = _tokenizer.Tokenize(texts);
        int at = 0;
        for (int k = 0; k < batch.Count; k++)
        {
            var item = _items[batch[k]];
            var reply = tokens[at++];
            var answers = tokens.Skip(at).Take(item.Answers.Count).ToArray();
            at += item.Answers.Count;
            (string? language, bool passes) = _gate?.Check(outputs[k]) ?? (null, true);
            if (!passes) reply = [];
            double best = answers.Max(a => RougeL.F1(reply, a)) * 100;
            bool? keyHit = item.Fields.TryGetValue(KeyField, out var key) ? passes && KeyMatches(outputs[k], key) : null;
            results[k] = new ItemResult(batch[k], prompts[k].Text, outputs[k], null, string.Join(" | ", item.Answers), best > 0,
                AnswerCorrect: keyHit, Language: language, InLanguage: _gate is null ? null : passes, Score: best);
        }
        return results;
    }
}
