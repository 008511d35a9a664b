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
    readonly List<string> _malformed = [];
    RunStatus? _status;
    readonly RunFolder _folder = new(root);
    (DateTime Time, long Length, EvolutionConfig? Value, string? Error) _config;
    (DateTime Time, long Length, EvolutionSummary? Value, string? Error) _summary;
    (DateTime Time, long Length, ClusterStatus? Value, string? Error) _workers;

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
            if (restarted) { _entries.Clear(); _malformed.Clear(); Generation++; Version++; }
            foreach (var entry in added)
            {
                if (CandidateShape.Problem(entry) is { } problem) _malformed.Add($"{_tail.Path}: {entry.Stage} generation {entry.Generation} #{entry.Index}: {problem}; not shown");
                else _entries.Add(entry);
            }
            if (added.Count > 0) Version++;
            if (Reload(_folder.ConfigFile, ref _config, c => EvolutionConfigReader.Validate(c, _folder.ConfigFile))) Version++;
            if (Reload(_folder.SummaryFile, ref _summary, s => CheckSummary(s, _folder.SummaryFile))) Version++;
            if (Reload(_folder.WorkersFile, ref _workers, w => CheckWorkers(w, _folder.WorkersFile))) Version++;
            var status = StatusOf();
            if (status != _status) { _status = status; Version++; }   // e.g. a killed run: its lock goes, nothing else changes
            var errors = new List<string>();
            if (_config.Error is { } configError) errors.Add(configError);
            if (_summary.Error is { } summaryError) errors.Add(summaryError);
            if (_workers.Error is { } workersError) errors.Add(workersError);
            errors.AddRange(_tail.Errors);
            errors.AddRange(_malformed);
            if (_tail.PartialBytes > 0 && status != RunStatus.Running)
                errors.Add($"{_tail.Path}: the last line is incomplete ({_tail.PartialBytes} bytes, the run was stopped mid-write); it is ignored");
            return new RunSnapshot(this, [.. _entries], _config.Value, _summary.Value, _workers.Value, status, errors, Version, Generation);
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
    static bool Reload<T>(string path, ref (DateTime Time, long Length, T? Value, string? Error) state, Action<T> check) where T : class
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
            try
            {
                var value = RunJson.ReadFile<T>(path);
                check(value);
                state.Value = value;
            }
            catch (Exception e) when (e is EvoMergeException or IOException or NotSupportedException or InvalidOperationException)
            { state.Error = e.Message; }
            // JSON null where the record expects a list or an object: the checks above trip over it.
            catch (NullReferenceException) { state.Error = $"{path}: not a valid {typeof(T).Name} file: a required field is null"; }
        return true;
    }

    static void CheckWorkers(ClusterStatus s, string path)
    {
        if (s.Workers is null || s.Workers.Any(w => w?.Name is null || w.State is null || w.Work is null))
            throw new EvoMergeException($"{path}: not a valid {nameof(ClusterStatus)} file: workers, each with a name, state and work, are required");
    }

    static void CheckSummary(EvolutionSummary s, string path)
    {
        if (s.Stages is null || s.Models is null || s.Models.Any(m => m?.TestScores is null || m.Label is null))
            throw new EvoMergeException($"{path}: not a valid {nameof(EvolutionSummary)} file: stages, models and their test scores are required");
    }
}

public enum RunStatus { Running, Finished, Failed }

/// <summary>A run as it was at one moment: what the API serialises.</summary>
/// <param name="Workers">A cluster run's workers (<c>workers.json</c>); null for a single-process run.</param>
sealed record RunSnapshot(RunView Run, IReadOnlyList<JournalEntry> Entries, EvolutionConfig? Config, EvolutionSummary? Summary,
    ClusterStatus? Workers, RunStatus Status, IReadOnlyList<string> Errors, int Version, int Generation);
