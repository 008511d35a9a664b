using EvoMerge.Evolution.Config;
using EvoMerge.Evolution.Run;
using EvoMerge.Reporting;

namespace EvoMerge.Dashboard;

/// <summary>
/// One run folder as the dashboard sees it: the journal followed from where it was last read, the config and the
/// summary re-read only when their files change. Never writes into the folder. Thread-safe: every page and event
/// stream of the run shares this one copy.
/// </summary>
sealed class RunView(string id, string root)
{
    /// <summary>Config and summary files larger than this are reported instead of read (real ones are kilobytes).</summary>
    const long MaxJsonBytes = 16 << 20;
    /// <summary>Without lock information, a run whose journal grew this recently counts as running.</summary>
    static readonly TimeSpan RecentWrite = TimeSpan.FromMinutes(2);

    readonly object _gate = new();
    readonly JournalTail _tail = new(new RunFolder(root).JournalFile);
    readonly List<JournalEntry> _entries = [];
    readonly RunFolder _folder = new(root);
    (DateTime Time, long Length, EvolutionConfig? Value, string? Error) _config;
    (DateTime Time, long Length, EvolutionSummary? Value, string? Error) _summary;

    public string Id { get; } = id;
    public RunFolder Folder => _folder;
    /// <summary>Grows by one whenever anything the pages show changed; event streams send an update when it moves.</summary>
    public int Version { get; private set; }
    /// <summary>Grows when the journal was replaced (a new run in the folder): readers start over.</summary>
    public int Generation { get; private set; }

    /// <summary>Reads what was appended or rewritten since the last call; returns a consistent snapshot.</summary>
    public RunSnapshot Refresh()
    {
        lock (_gate)
        {
            var added = _tail.Read(out bool restarted);
            if (restarted) { _entries.Clear(); Generation++; Version++; }
            if (added.Count > 0) { _entries.AddRange(added); Version++; }
            if (Reload(_folder.ConfigFile, ref _config)) Version++;
            if (Reload(_folder.SummaryFile, ref _summary)) Version++;
            var errors = new List<string>();
            if (_config.Error is { } c) errors.Add(c);
            if (_summary.Error is { } s) errors.Add(s);
            errors.AddRange(_tail.Errors);
            if (_tail.PartialBytes > 0 && StatusOf() != RunStatus.Running)
                errors.Add($"{_tail.Path}: the last line is incomplete ({_tail.PartialBytes} bytes, the run was stopped mid-write); it is ignored");
            return new RunSnapshot(this, [.. _entries], _config.Value, _summary.Value, StatusOf(), errors, Version, Generation);
        }
    }

    RunStatus StatusOf()
    {
        var journal = new FileInfo(_folder.JournalFile);
        bool? locked = journal.Exists ? JournalLock.HeldByAnotherProcess(journal.FullName) : false;
        if (locked == true) return RunStatus.Running;
        if (_summary.Value is not null) return RunStatus.Finished;
        if (locked is null && journal.Exists && DateTime.UtcNow - journal.LastWriteTimeUtc < RecentWrite) return RunStatus.Running;
        return RunStatus.Failed;
    }

    /// <summary>Re-reads a JSON file of the run when its timestamp or size changed; returns whether anything did.</summary>
    static bool Reload<T>(string path, ref (DateTime Time, long Length, T? Value, string? Error) state) where T : class
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            bool had = state.Value is not null || state.Error is not null;
            state = default;
            return had;
        }
        if (info.LastWriteTimeUtc == state.Time && info.Length == state.Length) return false;
        state = (info.LastWriteTimeUtc, info.Length, null, null);
        if (info.Length == 0 || info.Length > MaxJsonBytes || info.LinkTarget is not null)
            state.Error = $"{path}: not read ({(info.LinkTarget is not null ? "a link" : $"{info.Length} bytes")}; expected a {typeof(T).Name} JSON file)";
        else
            try { state.Value = RunJson.ReadFile<T>(path); }
            catch (Exception e) when (e is EvoMergeException or IOException or NotSupportedException or InvalidOperationException)
            { state.Error = e.Message; }
        return true;
    }
}

public enum RunStatus { Running, Finished, Failed }

/// <summary>A run as it was at one moment: what the API serialises.</summary>
sealed record RunSnapshot(RunView Run, IReadOnlyList<JournalEntry> Entries, EvolutionConfig? Config, EvolutionSummary? Summary,
    RunStatus Status, IReadOnlyList<string> Errors, int Version, int Generation);
