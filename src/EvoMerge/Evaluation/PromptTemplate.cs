using System.Text;

namespace EvoMerge.Evaluation;

/// <summary>
/// A prompt with <c>{field}</c> slots filled from an item's fields; <c>{{</c> and <c>}}</c> stand for literal braces.
/// Parsed once, so rendering thousands of prompts is a string concatenation each.
/// </summary>
public sealed class PromptTemplate
{
    /// <summary>The EvoLLM-JP paper's zero-shot Japanese chain-of-thought prompt (Sakana's released evaluation code).</summary>
    public const string SakanaJapaneseMath =
        "以下に、あるタスクを説明する指示があります。リクエストを適切に完了するための回答を日本語で記述してください。一歩一歩考えましょう。\n\n### 指示:\n{question}\n\n### 応答:";

    // Alternating literal text and field names: parts[0] literal, parts[1] field, parts[2] literal, ...
    readonly string[] _parts;

    public string Text { get; }
    public IReadOnlyList<string> Fields { get; }

    public PromptTemplate(string text)
    {
        Text = text;
        var parts = new List<string>();
        var literal = new StringBuilder();
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if ((c == '{' || c == '}') && i + 1 < text.Length && text[i + 1] == c) { literal.Append(c); i++; continue; }
            if (c == '}') throw new EvoMergeException($"prompt template: unmatched '}}' at position {i} (write '}}}}' for a literal brace)");
            if (c != '{') { literal.Append(c); continue; }
            int close = text.IndexOf('}', i + 1);
            if (close < 0) throw new EvoMergeException($"prompt template: '{{' at position {i} has no closing '}}' (write '{{{{' for a literal brace)");
            string field = text[(i + 1)..close];
            if (field.Length == 0 || field.Contains('{'))
                throw new EvoMergeException($"prompt template: bad field name '{field}' at position {i}");
            parts.Add(literal.ToString());
            parts.Add(field);
            literal.Clear();
            i = close;
        }
        parts.Add(literal.ToString());
        _parts = parts.ToArray();
        Fields = _parts.Where((_, k) => k % 2 == 1).Distinct().ToArray();
    }

    /// <summary>Fills the slots; <paramref name="where"/> names the item (file and line) in the error for a missing field.</summary>
    public string Render(IReadOnlyDictionary<string, string> fields, string where)
    {
        var sb = new StringBuilder();
        for (int k = 0; k < _parts.Length; k++)
        {
            if (k % 2 == 0) { sb.Append(_parts[k]); continue; }
            if (!fields.TryGetValue(_parts[k], out var value))
                throw new EvoMergeException(
                    $"{where}: prompt template needs field '{_parts[k]}', but the item has only: {string.Join(", ", fields.Keys)}");
            sb.Append(value);
        }
        return sb.ToString();
    }
}
