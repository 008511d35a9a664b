using System.Globalization;
using System.Text.Json;

namespace EvoMerge.Evaluation.Data;

/// <summary>
/// Multiple-choice JSONL. Choices come from an array field (default <c>choices</c>) or, JCommonsenseQA style, from
/// numbered fields <c>choice0</c>, <c>choice1</c>, …; the gold from <c>label</c> (0-based index) or <c>answer</c>
/// (the text of the right choice, or else its index). Every other field is available to the prompt template.
/// </summary>
public static class ChoiceData
{
    public static IReadOnlyList<ChoiceItem> Load(string path, string choicesField = "choices") =>
        JsonlRecords.Read(path).Select(r => ToItem(r, choicesField)).ToArray();

    static ChoiceItem ToItem(JsonlRecords.Record r, string choicesField)
    {
        var choices = ChoicesOf(r, choicesField);
        if (choices.Count < 2) throw new EvoMergeException($"{r.Source}: expected at least 2 choices, found {choices.Count}");
        int index;
        string gold;
        if (r.Fields.TryGetValue("label", out var label)) index = ParseIndex(gold = label);
        else if (r.Fields.TryGetValue("answer", out var answer))
            index = IndexOfText(choices, gold = answer) is int j and >= 0 ? j : ParseIndex(answer);
        else throw new EvoMergeException($"{r.Source}: missing field 'label' (index of the right choice) or 'answer'");
        if (index < 0 || index >= choices.Count)
            throw new EvoMergeException($"{r.Source}: gold '{gold}' is neither a choice index 0..{choices.Count - 1} nor the text of a choice");
        return new ChoiceItem(r.Fields, choices, index, r.Source);
    }

    static IReadOnlyList<string> ChoicesOf(JsonlRecords.Record r, string field)
    {
        if (r.Json.TryGetProperty(field, out var array))
        {
            if (array.ValueKind != JsonValueKind.Array || array.EnumerateArray().Any(c => c.ValueKind != JsonValueKind.String))
                throw new EvoMergeException($"{r.Source}: field '{field}' must be an array of strings");
            return array.EnumerateArray().Select(c => c.GetString()!).ToArray();
        }
        var numbered = new List<string>();
        while (r.Fields.TryGetValue($"choice{numbered.Count}", out var choice)) numbered.Add(choice);
        if (numbered.Count == 0)
            throw new EvoMergeException($"{r.Source}: no choices (expected an array field '{field}' or fields choice0, choice1, …)");
        return numbered;
    }

    static int ParseIndex(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int i) ? i : -1;

    static int IndexOfText(IReadOnlyList<string> choices, string text)
    {
        for (int j = 0; j < choices.Count; j++) if (choices[j] == text) return j;
        return -1;
    }
}
