using System.Text.RegularExpressions;

namespace EvoMerge.Evaluation.Data;

/// <summary>
/// GSM8K (Cobbe et al. 2021) JSONL: <c>{"question": …, "answer": …}</c>, where the answer is a worked solution with
/// calculator annotations <c>&lt;&lt;48/2=24&gt;&gt;</c> and a last line <c>#### N</c> giving the gold number.
/// Items have one field, <c>question</c>; as exemplars, the solution is shown without the annotations.
/// </summary>
public static partial class Gsm8kData
{
    [GeneratedRegex("<<[^>]*>>")]
    private static partial Regex CalculatorAnnotation();

    public static IReadOnlyList<TaskItem> Load(string path) =>
        JsonlRecords.Read(path)
            .Select(r => new TaskItem(Question(r), GoldOf(r), r.Source))
            .ToArray();

    public static IReadOnlyList<Exemplar> LoadExemplars(string path) =>
        JsonlRecords.Read(path)
            .Select(r => new Exemplar(Question(r), CalculatorAnnotation().Replace(r.Require("answer"), ""), r.Source))
            .ToArray();

    static Dictionary<string, string> Question(JsonlRecords.Record r) => new() { ["question"] = r.Require("question") };

    static string GoldOf(JsonlRecords.Record r)
    {
        string answer = r.Require("answer");
        int mark = answer.LastIndexOf("####", StringComparison.Ordinal);
        if (mark < 0) throw new EvoMergeException($"{r.Source}: field 'answer' has no '#### N' line with the gold number");
        return answer[(mark + 4)..].Trim();
    }
}
