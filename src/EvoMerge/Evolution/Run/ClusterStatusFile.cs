namespace EvoMerge.Evolution.Run;

/// <summary>
/// Keeps a cluster run's latest <see cref="ClusterStatus"/> in <c>workers.json</c> of its run folder, for the dashboard.
/// The driver reports on every change (many times a second while results pour in); the file is rewritten at most
/// once per <paramref name="interval"/>, always whole (temporary name, then rename), and the last status reported
/// always reaches it: at once when the interval has passed since the last write, else when it has, and on
/// <see cref="Dispose"/>. A write that fails stops the writing (<see cref="Failure"/>), not the search.
/// </summary>
public sealed class ClusterStatusFile(string path, TimeSpan interval) : IProgress<ClusterStatus>, IDisposable
{
    readonly object _lock = new();
    Timer? _timer;
    ClusterStatus? _latest;
    DateTime _lastWrite = DateTime.MinValue;
    bool _scheduled, _closed;

    /// <summary>The run folder's <see cref="RunFolder.WorkersFile"/>, rewritten at most once a second.</summary>
    public ClusterStatusFile(RunFolder folder) : this(folder.WorkersFile, TimeSpan.FromSeconds(1)) { }

    public string Path { get; } = path;

    /// <summary>Whole files written so far.</summary>
    public int Writes { get; private set; }

    /// <summary>Why writing stopped (the file could not be written), or null.</summary>
    public string? Failure { get; private set; }

    public void Report(ClusterStatus status)
    {
        lock (_lock)
        {
            if (_closed) return;
            _latest = status;
            var wait = _lastWrite + interval - DateTime.UtcNow;
            if (wait <= TimeSpan.Zero) Write();
            else if (!_scheduled)
            {
                _scheduled = true;
                _timer ??= new Timer(_ => Flush());
                _timer.Change(wait, Timeout.InfiniteTimeSpan);
            }
        }
    }

    void Flush()
    {
        lock (_lock)
        {
            _scheduled = false;
            if (!_closed) Write();
        }
    }

    void Write()
    {
        if (_latest is null) return;
        try { RunJson.WriteFile(Path, _latest); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Failure = $"{Path}: the workers' status could not be written ({e.Message}); the dashboard shows no workers table";
            _closed = true;
            return;
        }
        _latest = null;
        _lastWrite = DateTime.UtcNow;
        Writes++;
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (!_closed) Write();
            _closed = true;
            _timer?.Dispose();
        }
    }
}
