using EvoMerge.Evolution.Run;
using Spectre.Console;

namespace EvoMerge.Cli.Evolve;

/// <summary>
/// One live line per worker under the stage bars: state, results used (and in candidates), candidates per second, busy
/// share. Each status is passed on to <paramref name="next"/> (the run folder's workers file, for the dashboard).
/// </summary>
sealed class ClusterLiveStatus(ProgressContext context, IProgress<ClusterStatus>? next = null) : IProgress<ClusterStatus>
{
    readonly Dictionary<string, ProgressTask> _lines = new();
    ProgressTask? _events;
    readonly object _lock = new();

    public void Report(ClusterStatus status)
    {
        next?.Report(status);
        lock (_lock)
        {
            foreach (var w in status.Workers)
            {
                if (!_lines.TryGetValue(w.Silo, out var line))
                    _lines[w.Silo] = line = context.AddTask(w.Name, maxValue: 1);
                line.Description = Markup.Escape($"worker {w.Name} ({w.Slots} slot(s)): {w.State}, {w.Results} results ({w.Candidates:0.##} candidates), " +
                    $"{w.PerSecond:0.###} candidates/s, busy {w.Busy:P0}");
            }
            if (status.Message is { } message)
            {
                _events ??= context.AddTask("cluster", maxValue: 1);
                _events.Description = Markup.Escape($"cluster: {message} (queued {status.Pending}, running {status.Running})");
            }
        }
    }

    /// <summary>The workers' totals after the run.</summary>
    public static void WriteTable(IReadOnlyList<WorkerStatus> workers)
    {
        var table = new Table().AddColumn("worker").AddColumn("state").AddColumn(new TableColumn("slots").RightAligned())
            .AddColumn(new TableColumn("results").RightAligned()).AddColumn(new TableColumn("candidates").RightAligned())
            .AddColumn(new TableColumn("candidates/s").RightAligned())
            .AddColumn(new TableColumn("busy").RightAligned());
        foreach (var w in workers)
            table.AddRow(Markup.Escape(w.Name), w.State, $"{w.Slots}", $"{w.Results}", $"{w.Candidates:0.##}", $"{w.PerSecond:0.###}", $"{w.Busy:P0}");
        AnsiConsole.Write(table);
    }
}
