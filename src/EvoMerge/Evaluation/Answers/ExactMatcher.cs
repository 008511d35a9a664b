namespace EvoMerge.Evaluation.Answers;

/// <summary>
/// The reply's first non-blank line, trimmed, must equal the gold answer, trimmed (ordinal, case-sensitive).
/// The first line because models tend to add an explanation after the answer.
/// </summary>
public sealed class ExactMatcher : IAnswerMatcher
{
    public AnswerCheck Check(string output, string gold)
    {
        string? line = output.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0);
        return new AnswerCheck(line, line == gold.Trim());
    }

    public void ValidateGold(string gold, string where)
    {
        if (gold.Trim().Length == 0) throw new EvoMergeException($"{where}: answer is empty (expected the exact reply)");
    }
}
