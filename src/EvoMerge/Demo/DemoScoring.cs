using System.Text.RegularExpressions;

namespace EvoMerge.Demo;

/// <summary>
/// How the demo marks a greedy completion (the text generated after the prompt). Only the first line counts: a model
/// that keeps talking after its answer is not penalised for what follows.
/// </summary>
public static partial class DemoScoring
{
    /// <summary>Japanese math, strict: the right number immediately followed by the right counter (<c>8個</c>), the
    /// miniature stand-in for the paper's "correct and answered in Japanese".</summary>
    public static bool JaMathStrict(string completion, DemoItem item)
    {
        var m = LeadingNumber().Match(FirstLine(completion));
        return m.Success && int.Parse(m.Groups[1].Value) == item.Number
            && FirstLine(completion)[m.Length..].StartsWith(item.Counter, StringComparison.Ordinal);
    }

    /// <summary>The first integer of the answer is the gold number (Japanese math number-only, English math).</summary>
    public static bool NumberMatches(string completion, DemoItem item)
    {
        var m = AnyNumber().Match(FirstLine(completion));
        return m.Success && int.TryParse(m.Value, out int n) && n == item.Number;
    }

    /// <summary>The answer line begins with the reference answer (Japanese QA: <c>3個です。</c>, <c>りんごです。</c>).</summary>
    public static bool AnswerMatches(string completion, DemoItem item) =>
        FirstLine(completion).StartsWith(item.Answer, StringComparison.Ordinal);

    static string FirstLine(string completion)
    {
        int newline = completion.IndexOf('\n');
        return (newline < 0 ? completion : completion[..newline]).TrimStart(' ');
    }

    [GeneratedRegex(@"^(\d+)")]
    private static partial Regex LeadingNumber();

    [GeneratedRegex(@"\d+")]
    private static partial Regex AnyNumber();
}
