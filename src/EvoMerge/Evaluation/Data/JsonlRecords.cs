using System.Text.Json;

namespace EvoMerge.Evaluation.Data;

/// <summary>One JSON object per line, read into string fields (numbers and booleans as written, arrays kept as JSON).</summary>
public static class JsonlRecords
{
    public sealed record Record(IReadOnlyDictionary<string, string> Fields, JsonElement Json, string Source);

    public static IReadOnlyList<Record> Read(string path)
    {
        var records = new List<Record>();
        int lineNumber = 0;
        foreach (string line in DataFile.ReadLines(path))
        {
            lineNumber++;
            if (line.Trim().Length == 0) continue;
            string source = $"{path} line {lineNumber}";
            JsonElement json;
            try { json = JsonDocument.Parse(line).RootElement; }
            catch (JsonException e) { throw new EvoMergeException($"{source}: not valid JSON ({e.Message})"); }
            if (json.ValueKind != JsonValueKind.Object)
                throw new EvoMergeException($"{source}: expected a JSON object per line, got {json.ValueKind}");
            var fields = new Dictionary<string, string>();
            foreach (var p in json.EnumerateObject())
                fields[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
            records.Add(new Record(fields, json, source));
        }
        if (records.Count == 0) throw new EvoMergeException($"{path}: no records (expected one JSON object per line)");
        return records;
    }

    /// <summary>A field that must be present, or an error naming the file, line and field.</summary>
    public static string Require(this Record record, string field) =>
        record.Fields.TryGetValue(field, out var value)
            ? value
            : throw new EvoMergeException($"{record.Source}: missing field '{field}' (has: {string.Join(", ", record.Fields.Keys)})");
}
