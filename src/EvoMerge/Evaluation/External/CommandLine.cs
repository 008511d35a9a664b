using System.Text;

namespace EvoMerge.Evaluation.External;

/// <summary>
/// A command written as one string, split into an argument list the way a POSIX shell splits words, and nothing
/// more: blanks separate arguments, '…' keeps everything literally, "…" keeps everything but \" and \\, a backslash
/// outside quotes escapes the next character. No variables, globbing, pipes or redirections: the program is
/// started directly.
/// </summary>
public static class CommandLine
{
    public static IReadOnlyList<string> Split(string command)
    {
        var args = new List<string>();
        var current = new StringBuilder();
        bool inWord = false;
        for (int i = 0; i < command.Length; i++)
        {
            char c = command[i];
            if (char.IsWhiteSpace(c))
            {
                if (inWord) args.Add(current.ToString());
                current.Clear();
                inWord = false;
                continue;
            }
            inWord = true;
            switch (c)
            {
                case '\'':
                    int close = command.IndexOf('\'', i + 1);
                    if (close < 0) throw new FormatException($"the quote ' at character {i + 1} is never closed");
                    current.Append(command, i + 1, close - i - 1);
                    i = close;
                    break;
                case '"':
                    int start = i;
                    for (i++; ; i++)
                    {
                        if (i >= command.Length) throw new FormatException($"the quote \" at character {start + 1} is never closed");
                        if (command[i] == '"') break;
                        if (command[i] == '\\' && i + 1 < command.Length && command[i + 1] is '"' or '\\') i++;
                        current.Append(command[i]);
                    }
                    break;
                case '\\':
                    if (i + 1 >= command.Length) throw new FormatException("the command ends in a lone backslash");
                    current.Append(command[++i]);
                    break;
                default:
                    current.Append(c);
                    break;
            }
        }
        if (inWord) args.Add(current.ToString());
        return args;
    }

    /// <summary>The arguments as one string that <see cref="Split"/> reads back into the same list.</summary>
    public static string Join(IEnumerable<string> arguments) => string.Join(' ', arguments.Select(Quote));

    static string Quote(string a) =>
        a.Length > 0 && a.All(c => char.IsLetterOrDigit(c) || "-_./:=,+@{}%".Contains(c)) ? a : "'" + a.Replace("'", "'\\''") + "'";
}
