namespace EvoMerge.Evaluation.Answers;

/// <summary>Reads the answer out of a model's reply and decides whether it matches the gold answer.</summary>
public interface IAnswerMatcher
{
    AnswerCheck Check(string output, string gold);

    /// <summary>Throws an <see cref="EvoMergeException"/> (naming <paramref name="where"/>) when a gold answer can never match.</summary>
    void ValidateGold(string gold, string where);
}

/// <param name="Extracted">The answer found in the reply, or null when none was found.</param>
public readonly record struct AnswerCheck(string? Extracted, bool Correct);
