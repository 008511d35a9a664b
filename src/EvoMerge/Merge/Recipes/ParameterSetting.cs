using System.Text.RegularExpressions;

namespace EvoMerge.Merge.Recipes;

/// <summary>Where something was written in the recipe file, for messages ("recipe.yml:12:5").</summary>
public readonly record struct RecipeMark(string File, int Line, int Column)
{
    public override string ToString() => $"{File}:{Line}:{Column}";
}

/// <summary>
/// A parameter value as mergekit recipes write it: a scalar (<c>0.5</c>, <c>true</c>), a gradient (<c>[0, 0.5, 1]</c>,
/// piecewise-linear over the layers of a slice), or a filter list (<c>- filter: self_attn / value: …</c>, first
/// match wins, an entry without filter matches everything). Filters match by substring as in mergekit; as an
/// extension, a filter containing <c>*</c> or <c>?</c> is a glob and one written <c>re:…</c> a regular expression
/// (.NET syntax, matched in linear time: no backreferences or lookarounds).
/// </summary>
public sealed class ParameterSetting
{
    public double? Scalar { get; private init; }

    public IReadOnlyList<double>? Gradient { get; private init; }

    public IReadOnlyList<(TensorFilter? Filter, ParameterSetting Value)>? Filters { get; private init; }

    public RecipeMark Mark { get; private init; }

    public static ParameterSetting Of(double value, RecipeMark mark) => new() { Scalar = value, Mark = mark };

    public static ParameterSetting OfGradient(IReadOnlyList<double> values, RecipeMark mark) => new() { Gradient = values, Mark = mark };

    public static ParameterSetting OfFilters(IReadOnlyList<(TensorFilter?, ParameterSetting)> filters, RecipeMark mark) => new() { Filters = filters, Mark = mark };

    /// <summary>
    /// The value for tensor <paramref name="tensorName"/> at relative depth <paramref name="t"/> (0..1 over the slice),
    /// or null when a filter list has no matching entry (the caller then falls back to the next level).
    /// </summary>
    public double? Evaluate(string tensorName, double t)
    {
        if (Scalar is double s) return s;
        if (Gradient is { } g)
        {
            if (g.Count == 1) return g[0];
            double scaled = t * (g.Count - 1);
            int i0 = Math.Min((int)Math.Floor(scaled), g.Count - 1), i1 = Math.Min(i0 + 1, g.Count - 1);
            double fraction = scaled - i0;
            return (1 - fraction) * g[i0] + fraction * g[i1];
        }
        foreach (var (filter, value) in Filters!)
            if (filter == null || filter.Matches(tensorName)) return value.Evaluate(tensorName, t);
        return null;
    }

    /// <summary>Every number written in the setting, for validation (NaN, range).</summary>
    public IEnumerable<(double Value, RecipeMark Mark)> Numbers()
    {
        if (Scalar is double s) yield return (s, Mark);
        if (Gradient is { } g) foreach (var v in g) yield return (v, Mark);
        if (Filters is { } f) foreach (var (_, value) in f) foreach (var n in value.Numbers()) yield return n;
    }
}

/// <summary>Which tensor names a filter entry applies to.</summary>
public sealed class TensorFilter
{
    readonly Regex? _regex;

    public string Text { get; }

    public TensorFilter(string text)
    {
        Text = text;
        // The linear-time engine: a pattern such as ^(([a-z0-9_]+\.?)+)+[A-Z]$ cannot backtrack for ever on a tensor name.
        const RegexOptions options = RegexOptions.CultureInvariant | RegexOptions.NonBacktracking;
        if (text.StartsWith("re:", StringComparison.Ordinal)) _regex = new Regex(text[3..], options);
        else if (text.Contains('*') || text.Contains('?'))
            _regex = new Regex("^" + Regex.Escape(text).Replace(@"\*", ".*").Replace(@"\?", ".") + "$", options);
    }

    /// <summary>mergekit: "*" matches everything, otherwise substring; globs and "re:" regexes are extensions.</summary>
    public bool Matches(string tensorName) =>
        Text == "*" || (_regex?.IsMatch(tensorName) ?? tensorName.Contains(Text, StringComparison.Ordinal));
}
