using System.Collections.Concurrent;
using EvoMerge.Evolution.Run;

namespace EvoMerge.Dashboard;

/// <summary>
/// The run folders under the dashboard's root: the root itself when it is a run, else every folder holding a
/// <c>config.json</c> or <c>journal.jsonl</c> up to <see cref="MaxDepth"/> levels down. A run is addressed by its
/// path relative to the root, and only ids found here are ever served: a URL never becomes a path, so nothing
/// outside the root can be reached (links and hidden folders are not followed either).
/// </summary>
public sealed class RunCatalog
{
    const int MaxDepth = 3;
    /// <summary>A folder holding more runs than this is listed up to it (the scan stays bounded).</summary>
    const int MaxRuns = 10_000;
    static readonly TimeSpan Rescan = TimeSpan.FromSeconds(2);

    readonly ConcurrentDictionary<string, RunView> _runs = new(StringComparer.Ordinal);
    readonly object _scanGate = new();
    DateTime _scanned = DateTime.MinValue;
    IReadOnlyList<string> _order = [];

    public RunCatalog(string root)
    {
        Root = Path.GetFullPath(root);
        if (!Directory.Exists(Root)) throw new EvoMergeException($"{root}: runs folder not found");
    }

    public string Root { get; }

    internal IReadOnlyList<RunView> All()
    {
        Scan();
        return _order.Select(id => _runs[id]).ToList();
    }

    internal RunView? Find(string id)
    {
        if (_runs.TryGetValue(id, out var run)) return run;
        Scan();
        return _runs.GetValueOrDefault(id);
    }

    void Scan()
    {
        lock (_scanGate)
        {
            if (DateTime.UtcNow - _scanned < Rescan) return;
            var found = new List<(string Id, string Path)>();
            if (IsRun(Root)) found.Add((Path.GetFileName(Root.TrimEnd(Path.DirectorySeparatorChar)) is { Length: > 0 } n ? n : "run", Root));
            else Walk(Root, "", 1, found);
            foreach (var (id, path) in found) _runs.GetOrAdd(id, _ => new RunView(id, path));
            foreach (var gone in _runs.Keys.Except(found.Select(f => f.Id)).ToList()) _runs.TryRemove(gone, out _);
            _order = found.Select(f => f.Id).Order(StringComparer.Ordinal).ToList();
            _scanned = DateTime.UtcNow;
        }
    }

    void Walk(string folder, string prefix, int depth, List<(string, string)> found)
    {
        IEnumerable<DirectoryInfo> children;
        try { children = new DirectoryInfo(folder).EnumerateDirectories().OrderBy(d => d.Name, StringComparer.Ordinal).ToList(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return; }
        foreach (var child in children)
        {
            if (found.Count >= MaxRuns) return;
            if (child.Name.StartsWith('.') || child.LinkTarget is not null) continue;
            string id = prefix + child.Name;
            if (IsRun(child.FullName)) found.Add((id, child.FullName));
            else if (depth < MaxDepth) Walk(child.FullName, id + "/", depth + 1, found);
        }
    }

    static bool IsRun(string folder)
    {
        var run = new RunFolder(folder);
        return File.Exists(run.JournalFile) || File.Exists(run.ConfigFile);
    }
}
