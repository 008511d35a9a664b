using System.Diagnostics;
using System.Globalization;
using EvoMerge.Evaluation.External;
using EvoMerge.IO;

namespace EvoMerge.Evolution.External;

/// <summary>
/// Where candidates are written for fitness commands: <c>&lt;root&gt;/evomerge-scratch-&lt;pid&gt;-&lt;random&gt;/&lt;n&gt;/</c>,
/// one folder per candidate, removed as soon as its commands are done; the space's own folder goes on dispose. The root is
/// the user's <c>--scratch</c> (a RAM disk such as <c>/dev/shm/evomerge</c> saves the disk writes) or the system temp
/// folder. A process killed with kill -9 leaves its folder and may leave its scorer running; the next scratch space
/// on the same root removes the folders of processes that are gone and kills the scorers they recorded, matched by
/// process id and start time, so an unrelated process that got the same id is left alone. Nothing is created until
/// the first candidate needs it.
/// </summary>
public sealed class ScratchSpace(string? root = null) : IDisposable
{
    public const string Prefix = "evomerge-scratch-";
    internal const string PidFile = "scorer.pid";

    readonly Lazy<string> _folder = new(() => Create(Path.GetFullPath(root ?? Path.GetTempPath())));
    int _next;

    /// <summary>A fresh, empty folder for one candidate (thread-safe: M2N2 scores several children at once).</summary>
    public CandidateFolder NewCandidate()
    {
        string path = Path.Combine(_folder.Value, Interlocked.Increment(ref _next).ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(path);
        return new CandidateFolder(path);
    }

    public void Dispose()
    {
        if (_folder.IsValueCreated) CandidateFolder.Delete(_folder.Value);
    }

    static string Create(string root)
    {
        if (File.Exists(root)) throw new EvoMergeException($"{root}: the scratch folder is a file");
        try
        {
            Directory.CreateDirectory(root);
            RemoveStale(root);
            // Several spaces may share a root in one process (a worker's silos, tests): each has its own folder.
            string own = Path.Combine(root, $"{Prefix}{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}-{Guid.NewGuid().ToString("N")[..8]}");
            Directory.CreateDirectory(own);
            return own;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new EvoMergeException($"{root}: cannot use as scratch folder ({e.Message})", e);
        }
    }

    /// <summary>Folders of processes that no longer run: their recorded scorers are killed, then the folders removed.</summary>
    static void RemoveStale(string root)
    {
        foreach (var folder in Directory.EnumerateDirectories(root, Prefix + "*"))
        {
            if (!int.TryParse(Path.GetFileName(folder)[Prefix.Length..].Split('-')[0], NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                || pid == Environment.ProcessId || OutputFolder.Running(pid))
                continue;
            foreach (var record in Directory.EnumerateFiles(folder, PidFile, SearchOption.AllDirectories))
                KillRecorded(record);
            CandidateFolder.Delete(folder);
        }
    }

    static void KillRecorded(string record)
    {
        string[] fields;
        try { fields = File.ReadAllText(record).Split(' ', StringSplitOptions.RemoveEmptyEntries); }
        catch (IOException) { return; }
        if (fields.Length != 2 || !int.TryParse(fields[0], CultureInfo.InvariantCulture, out int pid) || ProcessStart.Of(pid) != fields[1]) return;
        try
        {
            using var orphan = Process.GetProcessById(pid);
            ScorerProcess.KillTree(orphan, wait: false);
        }
        catch (ArgumentException) { }   // gone meanwhile
    }
}

/// <summary>One candidate's scratch folder: its model, the score files of its tries, the id of the scorer running on it.</summary>
public sealed class CandidateFolder(string path) : IDisposable
{
    public string Root => path;

    /// <summary>Where the candidate's model folder is written (absent until then).</summary>
    public string Model => Path.Combine(path, "model");

    /// <summary>The <c>{out}</c> of a try: each try has its own, so a file left by a failed try is never read as the next one's.</summary>
    public string Scores(int task, int attempt) => Path.Combine(path, $"scores-{task}-{attempt}.json");

    /// <summary>Records the running scorer (id and start time), for the next run to kill if this process dies first.</summary>
    public void Record(Process scorer)
    {
        if (ProcessStart.Of(scorer.Id) is { } start) File.WriteAllText(Path.Combine(path, ScratchSpace.PidFile), $"{scorer.Id} {start}");
    }

    public void Dispose() => Delete(path);

    /// <summary>Removes a folder and everything in it; one that is already gone, or that cannot be removed, is left be.</summary>
    internal static void Delete(string folder)
    {
        try { if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}

/// <summary>A process's start time in clock ticks since boot (field 22 of <c>/proc/PID/stat</c>); null off Linux or when it is gone.</summary>
static class ProcessStart
{
    public static string? Of(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name (field 2) is in parentheses and may hold spaces; fields after it are plain.
            var rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return rest.Length > 19 ? rest[19] : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }
}
