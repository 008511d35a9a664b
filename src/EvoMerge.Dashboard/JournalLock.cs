namespace EvoMerge.Dashboard;

/// <summary>
/// Whether another process holds the journal open, as a running <c>evomerge evolve</c> does for its whole run: .NET
/// places a shared advisory lock (flock) on every file it opens, and Linux lists those in <c>/proc/locks</c> by
/// inode. Only looks, never locks: the journal is opened read-only for a moment to learn its inode.
/// </summary>
static class JournalLock
{
    const string Locks = "/proc/locks";

    /// <summary>True or false on Linux; null where the kernel does not say (then the caller judges by the journal's age).</summary>
    public static bool? HeldByAnotherProcess(string journal)
    {
        if (!OperatingSystem.IsLinux() || !File.Exists(Locks)) return null;
        try
        {
            string? inode;
            using (var stream = new FileStream(journal, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
                inode = InodeOf((int)stream.SafeFileHandle.DangerousGetHandle());
            if (inode is null) return null;
            string self = Environment.ProcessId.ToString();
            // "1: FLOCK  ADVISORY  READ 18849 fe:00:11657930 0 EOF": pid, then major:minor:inode.
            foreach (var line in File.ReadLines(Locks))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                int at = Array.FindIndex(fields, f => f.Count(c => c == ':') == 2);
                if (at > 0 && fields[at].EndsWith(":" + inode, StringComparison.Ordinal) && fields[at - 1] != self) return true;
            }
            return false;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    static string? InodeOf(int fd)
    {
        foreach (var line in File.ReadLines($"/proc/self/fdinfo/{fd}"))
            if (line.StartsWith("ino:", StringComparison.Ordinal)) return line[4..].Trim();
        return null;
    }
}
