using System.Text.Encodings.Web;
using System.Text.Json;
using EvoMerge.Evolution.Config;

namespace EvoMerge.Demo;

/// <summary>
/// The demo's four measurements as evaluation tasks (jsonl tasks of the evolution config) over files written from
/// the fixed splits. Every item has the fields <c>prompt</c> (ending in <c>答え: </c> or <c>A: </c>), <c>answer</c>
/// (the full reference line), <c>number</c> (the gold number) and <c>strict</c> (number + counter, e.g.
/// <c>8個</c>). Greedy, at most 8 new characters.
/// </summary>
public static class DemoTasks
{
    /// <summary>The strict answer: the reply begins with a number immediately followed by a counter.</summary>
    public const string StrictPattern = @"^\s*(\d+[個本匹冊枚])";

    /// <summary>The number-only answer: the reply begins with the number (read like the strict one, so that a
    /// strict hit is always a number hit; a last-number rule would read digits the model rambles on to).</summary>
    public const string NumberPattern = @"^\s*(\d+)";

    public const int MaxNewCharacters = 8;

    /// <summary>
    /// The fitness generates only what its strict pattern can read: one optional leading space and the longest
    /// answer, "20個" (operands 1–10). Greedy decoding is causal, so these characters are the first four of the
    /// 8-character reply the test columns read; a strict hit differs only for a reply starting with two or more
    /// spaces. Half the decoding steps of every search evaluation (docs/demo.md, "Time").
    /// </summary>
    public const int FitnessNewCharacters = 4;

    /// <summary>Problems per fitness evaluation during a search: a fresh sample of the dev split each generation.</summary>
    public const int Minibatch = 100;

    /// <summary>
    /// Fitness: Japanese-math strict accuracy on the dev split (300 problems). Searches score minibatches of
    /// <see cref="Minibatch"/> and re-score each generation's best on all 300 (as the paper's DFS did), which costs half
    /// of scoring every candidate on all 300 and keeps the search from fitting one fixed set of 100.
    /// </summary>
    public static TaskConfig Fitness(string dataFolder) =>
        Strict(Path.Combine(dataFolder, JaMathDevFile)) with { Minibatch = Minibatch, MaxNewTokens = FitnessNewCharacters };

    /// <summary>The table's columns, in order: JA math strict, JA math number, EN math, JA QA (test splits).</summary>
    public static IReadOnlyList<TaskConfig> Test(string dataFolder) =>
    [
        Strict(Path.Combine(dataFolder, JaMathTestFile)),
        Number(Path.Combine(dataFolder, JaMathNumberTestFile)),
        Number(Path.Combine(dataFolder, EnMathTestFile)),
        Jsonl(Path.Combine(dataFolder, JaQaTestFile), "answer", "exact"),
    ];

    const string JaMathDevFile = "ja_math_dev.jsonl", JaMathTestFile = "ja_math_test.jsonl",
        JaMathNumberTestFile = "ja_math_test_number.jsonl", EnMathTestFile = "en_math_test.jsonl", JaQaTestFile = "ja_qa_test.jsonl";

    /// <summary>Writes the item files of every split into <paramref name="folder"/>.</summary>
    public static void WriteData(DemoSplits splits, string folder)
    {
        Directory.CreateDirectory(folder);
        Write(Path.Combine(folder, JaMathDevFile), splits.JaMathDev.Select(JaMath));
        Write(Path.Combine(folder, JaMathTestFile), splits.JaMathTest.Select(JaMath));
        // The same items again: the evolution engine tells a run's tasks apart by kind and data file.
        Write(Path.Combine(folder, JaMathNumberTestFile), splits.JaMathTest.Select(JaMath));
        Write(Path.Combine(folder, EnMathTestFile), splits.EnMathTest.Select(p => Item(p.EnPrompt, p.EnAnswer, p.Sum, "")));
        Write(Path.Combine(folder, JaQaTestFile), splits.JaQaTest.Select(q => Item(q.Problem.JaQaPrompt(q.Kind), q.Problem.JaQaAnswer(q.Kind),
            q.Kind == QaKind.FirstNumber ? q.Problem.First : 0, q.Problem.Thing.Counter)));
    }

    static TaskConfig Strict(string data) => Jsonl(data, "strict", "regex") with { Regex = StrictPattern };

    static TaskConfig Number(string data) => Jsonl(data, "number", "regex") with { Regex = NumberPattern };

    static TaskConfig Jsonl(string data, string answerField, string match) => new()
    {
        Task = "jsonl", Data = data, Template = "{prompt}", AnswerField = answerField, Match = match, MaxNewTokens = MaxNewCharacters,
    };

    static Dictionary<string, string> JaMath(WordProblem p) => Item(p.JaPrompt, p.JaAnswer, p.Sum, p.Thing.Counter);

    static Dictionary<string, string> Item(string prompt, string answer, int number, string counter) => new()
    {
        ["prompt"] = prompt, ["answer"] = answer, ["number"] = number.ToString(), ["strict"] = $"{number}{counter}",
    };

    static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    static void Write(string path, IEnumerable<Dictionary<string, string>> items) =>
        File.WriteAllLines(path, items.Select(i => JsonSerializer.Serialize(i, Json)));
}
