namespace EvoMerge;

/// <summary>
/// A problem the user can fix (bad file, bad recipe, missing model). The CLI prints its message as one line,
/// without a stack trace; any other exception is a bug in EvoMerge.
/// </summary>
public class EvoMergeException : Exception
{
    public EvoMergeException(string message) : base(message) { }
    public EvoMergeException(string message, Exception inner) : base(message, inner) { }
}
