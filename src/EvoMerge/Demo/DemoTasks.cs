using System.Text.Encodings.Web;
using System.Text.Json;
using EvoMerge.Evaluation;

namespace EvoMerge.Demo;

/// <summary>
/// The demo's four measurements as evaluation-engine tasks over JSONL files written from the fixed splits. Every
/// item has the fields <c>prompt</c> (ending in <c>答え: </c> or <c>A: </c>), <c>answer</c> (the full reference
/// line), <c>number</c> (the gold number) and <c>strict</c> (number + counter, e.g. <c>8個</c>). Greedy, at most
/// 8 new characters, stop at the end of the line.
/// </summary>
public static class DemoTasks
{
    public const string JaMathStrict = "ja_math_strict", JaMathNumber = "ja_math_number", EnMath = "en_math", JaQa = "ja_qa";

    /// <summary>The strict answer: the reply begins with a number immediately followed by a counter.</summary>
    public const string StrictPattern = @"^\s*(\d+[個本匹冊枚])";

    public const int MaxNewCharacters = 8;

    /// <summary>Where each split's items are, once <see cref="WriteData"/> has run.</summary>
    public sealed record DataFiles(string JaMathDev, string JaMathTest, string EnMathTest, string JaQaTest);

    public static DataFiles WriteData(DemoSplits splits, string folder)
    {
        Directory.CreateDirectory(folder);
        var files = new DataFiles(Path.Combine(folder, "ja_math_dev.jsonl"), Path.Combine(folder, "ja_math_test.jsonl"),
            Path.Combine(folder, "en_math_test.jsonl"), Path.Combine(folder, "ja_qa_test.jsonl"));
        Write(files.JaMathDev, splits.JaMathDev.Select(p => Item(p.JaPrompt, p.JaAnswer, p.Sum, p.Thing.Counter)));
        Write(files.JaMathTest, splits.JaMathTest.Select(p => Item(p.JaPrompt, p.JaAnswer, p.Sum, p.Thing.Counter)));
        Write(files.EnMathTest, splits.EnMathTest.Select(p => Item(p.EnPrompt, p.EnAnswer, p.Sum, "")));
        Write(files.JaQaTest, splits.JaQaTest.Select(q => Item(q.Problem.JaQaPrompt(q.Kind), q.Problem.JaQaAnswer(q.Kind),
            q.Kind == QaKind.FirstNumber ? q.Problem.First : 0, q.Problem.Thing.Counter)));
        return files;
    }

    /// <summary>A task of the demo on one of its data files.</summary>
    public static EvalTaskSpec Spec(string task, string dataPath) => task switch
    {
        JaMathStrict => Generation(dataPath, "strict", AnswerMatch.Regex, StrictPattern),
        JaMathNumber or EnMath => Generation(dataPath, "number", AnswerMatch.Number),
        JaQa => Generation(dataPath, "answer", AnswerMatch.Exact),
        _ => throw new ArgumentOutOfRangeException(nameof(task), task, "not a demo task"),
    };

    static EvalTaskSpec Generation(string dataPath, string answerField, AnswerMatch match, string? regex = null) =>
        new(TaskKind.Jsonl, dataPath, Template: "{prompt}", MaxNewTokens: MaxNewCharacters, StopStrings: ["\n"],
            AnswerField: answerField, Match: match, Regex: regex);

    static Dictionary<string, string> Item(string prompt, string answer, int number, string counter) => new()
    {
        ["prompt"] = prompt, ["answer"] = answer, ["number"] = number.ToString(), ["strict"] = $"{number}{counter}",
    };

    static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    static void Write(string path, IEnumerable<Dictionary<string, string>> items) =>
        File.WriteAllLines(path, items.Select(i => JsonSerializer.Serialize(i, Json)));
}
