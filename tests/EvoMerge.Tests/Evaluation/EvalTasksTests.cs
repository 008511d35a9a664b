using EvoMerge.Evaluation;
using EvoMerge.Evaluation.Tasks;

namespace EvoMerge.Tests.Evaluation;

/// <summary>User tasks from JSONL + template, and the errors a user can make, through <see cref="EvalTasks.Create"/>.</summary>
public sealed class EvalTasksTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("evomerge-eval-").FullName;

    public void Dispose() => Directory.Delete(_folder, true);

    string Write(string name, params string[] lines)
    {
        string path = Path.Combine(_folder, name);
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public void UserRegexTaskChecksTheCounter()
    {
        string data = Write("counting.jsonl",
            """{"a": 2, "b": 3, "answer": "5個"}""",
            """{"a": 1, "b": 1, "answer": "2個"}""");
        var task = EvalTasks.Create(new EvalTaskSpec(TaskKind.Jsonl, data, Template: "{a}個と{b}個で何個?", Match: AnswerMatch.Regex, Regex: @"(\d+個)"));
        Assert.Equal("counting", task.Name);
        var model = new ScriptedModel(prompt => prompt.StartsWith("2個") ? "全部で5個です" : "2です");
        var result = task.Evaluate(model);
        Assert.Equal(["2個と3個で何個?", "1個と1個で何個?"], model.Prompts);
        Assert.Equal([true, false], result.Items.Select(i => i.Correct));
        Assert.Equal(["5個", null], result.Items.Select(i => i.Extracted));
    }

    [Fact]
    public void UserNumberAndExactTasks()
    {
        string data = Write("sums.jsonl", """{"q": "1+1", "answer": 2}""", """{"q": "2+2", "answer": "4"}""");
        var number = EvalTasks.Create(new EvalTaskSpec(TaskKind.Jsonl, data, Template: "{q}=", Match: AnswerMatch.Number));
        Assert.Equal(1.0, number.Evaluate(new ScriptedModel(p => p == "1+1=" ? " it is 2" : "4.0")).Primary.Value);
        var exact = EvalTasks.Create(new EvalTaskSpec(TaskKind.Jsonl, data, Template: "{q}="));
        Assert.Equal(0.5, exact.Evaluate(new ScriptedModel(p => p == "1+1=" ? " it is 2" : "4\nbecause")).Primary.Value);
    }

    [Fact]
    public void UserChoiceTaskAndJCommonsenseQaFields()
    {
        string data = Write("jcqa.jsonl",
            """{"q_id": 0, "question": "主に子ども用?", "choice0": "世界", "choice1": "写真集", "choice2": "絵本", "label": 2}""");
        var task = EvalTasks.Create(new EvalTaskSpec(TaskKind.Jsonl, data, Template: "質問：{question}\n回答：", Match: AnswerMatch.Choice, ChoicePrefix: ""));
        var model = new ScriptedModel(score: r => new ContinuationScore(r.Continuation == "絵本" ? -1 : -5, 1, false));
        var item = task.Evaluate(model).Items.Single();
        Assert.True(item.Correct);
        Assert.Equal("質問：主に子ども用?\n回答：", model.Requests[0].Context);
        Assert.Equal(["世界", "写真集", "絵本"], model.Requests.Select(r => r.Continuation));
    }

    [Fact]
    public void ChoiceTaskAcceptsAnswerTextAndArrays()
    {
        string data = Write("mc.jsonl", """{"question": "2+2?", "choices": ["3", "4"], "answer": "4"}""");
        var task = (ChoiceTask)EvalTasks.Create(new EvalTaskSpec(TaskKind.Choice, data));
        Assert.Equal(1, task.Items[0].Label);
    }

    [Fact]
    public void PerplexityReadsATextFile()
    {
        string data = Write("story.txt", "Once upon a time.", "The end.");
        var task = EvalTasks.Create(new EvalTaskSpec(TaskKind.Perplexity, data, WindowChars: 10, ContextChars: 5));
        Assert.True(task.Count >= 3);
    }

    public static TheoryData<string, string[], Func<string, EvalTaskSpec>, string> Mistakes => new()
    {
        { "bad.jsonl", ["""{"q": 1"""], p => new EvalTaskSpec(TaskKind.Jsonl, p, Template: "{q}"), "line 1: not valid JSON" },
        { "array.jsonl", ["[1, 2]"], p => new EvalTaskSpec(TaskKind.Jsonl, p, Template: "{q}"), "expected a JSON object" },
        { "noanswer.jsonl", ["""{"q": "x"}"""], p => new EvalTaskSpec(TaskKind.Jsonl, p, Template: "{q}"), "missing field 'answer'" },
        { "notemplate.jsonl", ["""{"q": "x", "answer": "y"}"""], p => new EvalTaskSpec(TaskKind.Jsonl, p), "needs a prompt template" },
        { "field.jsonl", ["""{"q": "x", "answer": "y"}"""], p => new EvalTaskSpec(TaskKind.Jsonl, p, Template: "{question}"), "needs field 'question'" },
        { "noregex.jsonl", ["""{"q": "x", "answer": "y"}"""], p => new EvalTaskSpec(TaskKind.Jsonl, p, Template: "{q}", Match: AnswerMatch.Regex), "--regex" },
        { "notab.tsv", ["question without answer"], p => new EvalTaskSpec(TaskKind.Mgsm, p), "line 1: expected 'question<TAB>answer'" },
        { "nonumber.tsv", ["q\tmany"], p => new EvalTaskSpec(TaskKind.Mgsm, p), "answer 'many' is not a number" },
        { "nohash.jsonl", ["""{"question": "q", "answer": "42"}"""], p => new EvalTaskSpec(TaskKind.Gsm8k, p), "no '#### N' line" },
        { "label.jsonl", ["""{"question": "q", "choices": ["a", "b"], "label": 5}"""], p => new EvalTaskSpec(TaskKind.Choice, p), "neither a choice index 0..1" },
        { "lang.jsonl", ["""{"question": "q", "choices": ["a", "b"], "label": 0}"""], p => new EvalTaskSpec(TaskKind.Choice, p, Language: "ja"), "--language applies to generated replies only" },
        { "mgsm_xx.tsv", ["q\t1"], p => new EvalTaskSpec(TaskKind.Mgsm, p, Shots: 1), "mgsm_exemplars_xx.jsonl' not found" },
    };

    [Theory]
    [MemberData(nameof(Mistakes))]
    public void MistakesGiveOneClearError(string file, string[] lines, Func<string, EvalTaskSpec> spec, string expected)
    {
        string path = Write(file, lines);
        var e = Assert.Throws<EvoMergeException>(() => EvalTasks.Create(spec(path)));
        Assert.Contains(expected, e.Message);
        if (!expected.StartsWith("--", StringComparison.Ordinal) && !expected.StartsWith("needs a", StringComparison.Ordinal))
            Assert.Contains(_folder, e.Message);   // the file at fault is named
    }

    [Fact]
    public void AMissingDataFileIsNamed()
    {
        var e = Assert.Throws<EvoMergeException>(() => EvalTasks.Create(new EvalTaskSpec(TaskKind.Gsm8k, "/nowhere/test.jsonl")));
        Assert.Contains("/nowhere/test.jsonl", e.Message);
    }
}
