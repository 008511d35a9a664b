using EvoMerge.Cli.Commands;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EvoMerge.Cli;

/// <summary>
/// The verbs of <c>evomerge</c>. Errors the user can fix (<see cref="EvoMergeException"/>) print one line and exit 1;
/// anything else is a bug and prints its stack trace only with <c>--verbose</c>.
/// </summary>
public static class CliApp
{
    public static int Run(string[] args)
    {
        bool verbose = args.Contains("--verbose");
        var app = new CommandApp();
        app.Configure(config =>
        {
            config.SetApplicationName("evomerge");
            config.PropagateExceptions();
            config.AddCommand<InspectCommand>("inspect")
                .WithDescription("Show a model's architecture, parameters, dtypes, shards and per-layer tensors.");
        });
        try
        {
            return app.Run(args.Where(a => a != "--verbose"));
        }
        catch (Exception e) when (e is EvoMergeException or CommandParseException or CommandRuntimeException)
        {
            AnsiConsole.Console.Profile.Out.Writer.Flush();
            Console.Error.WriteLine($"error: {e.Message}");
            if (verbose) Console.Error.WriteLine(e);
            return 1;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"error: {e.GetType().Name}: {e.Message}");
            if (verbose) Console.Error.WriteLine(e);
            else Console.Error.WriteLine("(run with --verbose for the stack trace)");
            return 2;
        }
    }
}
