using System.Text.RegularExpressions;

namespace EvoMerge.Evaluation.Answers;

/// <summary>
/// The last match of a user's pattern in the reply (its first capture group if it has one, else the whole match),
/// trimmed, must equal the gold answer, trimmed. E.g. <c>(\d+個)</c> demands the right number with the right counter.
/// </summary>
public sealed class RegexMatcher : IAnswerMatcher
{
    readonly Regex _pattern;

    public RegexMatcher(string pattern)
    {
        try { _pattern = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)); }
        catch (ArgumentException e) { throw new EvoMergeException($"answer regex '{pattern}' is not a valid .NET regular expression: {e.Message}"); }
    }

    public AnswerCheck Check(string output, string gold)
    {
        Match? last = null;
        try { for (var m = _pattern.Match(output); m.Success; m = m.NextMatch()) last = m; }
        catch (RegexMatchTimeoutException)
        {
            throw new EvoMergeException($"answer regex '{_pattern}' took more than {_pattern.MatchTimeout.TotalSeconds:0} s on one reply (catastrophic backtracking?); simplify it");
        }
        if (last == null) return new AnswerCheck(null, false);
        string found = (last.Groups.Count > 1 ? last.Groups[1].Value : last.Value).Trim();
        return new AnswerCheck(found, found == gold.Trim());
    }

    public void ValidateGold(string gold, string where)
    {
        if (gold.Trim().Length == 0) throw new EvoMergeException($"{where}: answer is empty (expected the text the regex should capture)");
    }
}
