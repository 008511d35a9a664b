using EvoMerge.Cli;

namespace EvoMerge.Torch.Tests.Cli;

/// <summary>Runs the real <c>evomerge</c> entry point in-process and captures what it prints.</summary>
static class CliRunner
{
    static readonly object ConsoleLock = new();

    public static (int Code, string Stdout, string Stderr) Run(params string[] args)
    {
        lock (ConsoleLock)
        {
            var (savedOut, savedErr) = (Console.Out, Console.Error);
            var (stdout, stderr) = (new StringWriter(), new StringWriter());
            Console.SetOut(stdout);
            Console.SetError(stderr);
            try { return (CliApp.Run(args), stdout.ToString(), stderr.ToString()); }
            finally
            {
                Console.SetOut(savedOut);
                Console.SetError(savedErr);
            }
        }
    }
}
