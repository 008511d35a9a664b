using System.ComponentModel;
using EvoMerge.Dashboard;
using Spectre.Console.Cli;

namespace EvoMerge.Cli.Commands;

/// <summary><c>evomerge dashboard [runs-dir]</c>: serve the live dashboard of the runs under a folder until Ctrl+C.</summary>
public sealed class DashboardCommand : Command<DashboardCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "[runs-dir]")]
        [Description("A folder of run folders, or one run folder (default: ./runs).")]
        public string RunsDirectory { get; init; } = "runs";

        [CommandOption("--port <PORT>")]
        [Description("TCP port (default 8080; 0 picks a free one).")]
        public int Port { get; init; } = 8080;

        [CommandOption("--host <ADDRESS>")]
        [Description("Address to listen on (default 127.0.0.1; 0.0.0.0 exposes the runs to the network, without authentication).")]
        public string Host { get; init; } = "127.0.0.1";
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (DashboardServer.ExposureWarning(settings.Host) is { } warning) Console.Error.WriteLine(warning);
        string root = Path.GetFullPath(settings.RunsDirectory);
        DashboardServer.RunAsync(new DashboardOptions(root, settings.Host, settings.Port),
            urls => Console.WriteLine($"dashboard: {string.Join(", ", urls.Select(u => u + "/"))} (runs under {root}; Ctrl+C stops)"),
            cancellationToken).GetAwaiter().GetResult();
        return 0;
    }
}
