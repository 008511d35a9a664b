namespace EvoMerge.Evaluation.Data;

/// <summary>
/// MGSM (Shi et al. 2022) as google-research/url-nlp ships it: a TSV of <c>question&lt;TAB&gt;answer</c> lines,
/// no header, answers integers possibly with a thousands comma; and exemplar JSONL with fields <c>q</c> (question,
/// prefixed e.g. "問題：") and <c>a</c> (worked answer ending "答えは N です。").
/// Items have one field, <c>question</c>.
/// </summary>
public static class MgsmData
{
    public static IReadOnlyList<TaskItem> LoadTsv(string path)
    {
        var items = new List<TaskItem>();
        int lineNumber = 0;
        foreach (string line in DataFile.ReadLines(path))
        {
            lineNumber++;
            if (line.Length == 0) continue;
            string source = $"{path} line {lineNumber}";
            int tab = line.IndexOf('\t');
            if (tab < 0) throw new EvoMergeException($"{source}: expected 'question<TAB>answer', found no tab");
            items.Add(new TaskItem(new Dictionary<string, string> { ["question"] = line[..tab] }, line[(tab + 1)..].Trim(), source));
        }
        if (items.Count == 0) throw new EvoMergeException($"{path}: no items (expected 'question<TAB>answer' lines)");
        return items;
    }

    public static IReadOnlyList<Exemplar> LoadExemplars(string path) =>
        JsonlRecords.Read(path)
            .Select(r => new Exemplar(new Dictionary<string, string> { ["question"] = r.Require("q") }, r.Require("a"), r.Source))
            .ToArray();
}
