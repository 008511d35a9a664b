using EvoMerge.Cluster.Driver;
using Spectre.Console;

namespace EvoMerge.Cli.Evolve;

/// <summary>One live line per worker under the stage bars: state, results used, results per second, busy share.</summary>
sealed class ClusterLiveStatus(ProgressContext context) : IProgress<ClusterStatus>
{
    readonly Dictionary<string, ProgressTask> _lines = new();
    ProgressTask? _events;
    readonly object _lock = new();

    public void Report(ClusterStatus status)
    {
        lock (_lock)
        {
            foreach (var w in status.Workers)
            {
                if (!_lines.TryGetValue(w.Silo, out var line))
                    _lines[w.Silo] = line = context.AddTask(w.Name, autoStart: false, maxValue: 1);
                double busy = w.KnownSeconds > 0 ? Math.Min(1, w.BusySeconds / w.KnownSeconds) : 0;
                line.Description = Markup.Escape($"worker {w.Name} ({w.Slots} slot(s)): {w.State}, {w.Evaluations} results, " +
                    $"{w.PerSecond:0.###}/s, busy {busy:P0}");
            }
            if (status.Message is { } message)
            {
                _events ??= context.AddTask("cluster", autoStart: false, maxValue: 1);
                _events.Description = Markup.Escape($"cluster: {message} (queued {status.Pending}, running {status.Running})");
            }
        }
    }
}
