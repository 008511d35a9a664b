using Spectre.Console;

namespace EvoMerge.Cli;

/// <summary>
/// Where the CLI writes. On a terminal: Spectre's live console. When stdout is a pipe or a file, tables and
/// results still go to stdout but at their natural width (no 80-column wrap, no colour codes), and progress goes
/// to stderr as whole lines, so <c>evomerge inspect m | less</c> and logs read cleanly; <c>--json</c> stays the
/// machine interface.
/// </summary>
public static class CliConsoles
{
    /// <summary>Wide enough that no table of ours wraps: tables that do not expand render at their natural width.</summary>
    const int PipeWidth = 10_000;

    /// <summary>Whether stdout goes to a pipe or file (checked per call: tests redirect it in-process).</summary>
    public static bool Piped => Console.IsOutputRedirected;

    /// <summary>Binds <see cref="AnsiConsole.Console"/> to the current stdout; plain and wide when piped.</summary>
    public static void Configure()
    {
        if (!Piped) return;
        AnsiConsole.Console = Plain(Console.Out);
    }

    /// <summary>The console progress bars and progress lines are drawn on: stdout's on a terminal, stderr lines when piped.</summary>
    public static IAnsiConsole ProgressConsole => Piped ? Plain(Console.Error) : AnsiConsole.Console;

    /// <summary>A progress display on <see cref="ProgressConsole"/>: live bars on a terminal; when piped, Spectre's
    /// non-interactive renderer, which prints each task's state as a whole line.</summary>
    public static Progress Progress() => ProgressConsole.Progress();

    /// <summary>
    /// The two consoles of a command that can print its result as JSON: with <c>--json</c> stdout carries only the
    /// JSON, so messages and progress lines both go to stderr; otherwise messages to stdout, progress as above.
    /// </summary>
    public static (IAnsiConsole Messages, IAnsiConsole Progress) ForResult(bool json)
    {
        if (!json) return (AnsiConsole.Console, ProgressConsole);
        var stderr = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        return (stderr, stderr);
    }

    static IAnsiConsole Plain(TextWriter writer)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = PipeWidth;
        return console;
    }
}
