using System.Security.Cryptography;

namespace EvoMerge.IO;

/// <summary>
/// Writes an output folder all or nothing, without ever touching what this process did not create:
/// <list type="number">
/// <item>the path is checked up front (<see cref="OutputPath.Check"/>: not a file, not a non-empty folder, not
/// equal to, inside or above an input);</item>
/// <item>the content goes into a partial folder beside it, <c>&lt;name&gt;.evomerge-partial-&lt;pid&gt;-&lt;random&gt;</c>,
/// created exclusively (mkdir fails if anything has that name), so two writers never share one;</item>
/// <item>the partial folder is published by an atomic rename that never replaces: renameat2 RENAME_NOREPLACE on
/// Linux; where the target is an empty folder, or the file system lacks that flag, plain rename(2), which replaces
/// only an empty folder. Of several writers racing for one folder exactly one wins; the others fail cleanly and
/// delete only their own partial folder.</item>
/// </list>
/// A killed run leaves its partial folder behind (docs/robustness.md says how to recognise and remove it).
/// </summary>
public static class OutputFolder
{
    /// <summary>The infix of partial folders and files, so leftovers are recognisable as EvoMerge's.</summary>
    public const string PartialInfix = ".evomerge-partial-";

    /// <summary>
    /// Calls <paramref name="writeInto"/> with a fresh partial folder, then publishes it as <paramref name="folder"/>,
    /// which must be absent or empty and must not be, contain or lie inside any of <paramref name="inputs"/>.
    /// </summary>
    public static void Write(string folder, Action<string> writeInto, IEnumerable<string>? inputs = null)
    {
        string target = OutputPath.Check(folder, inputs, folder: true);
        string partial = CreatePartial(target, folder);
        try
        {
            writeInto(partial);
            Publish(partial, target, folder);
        }
        catch (Exception e)
        {
            DeleteOwn(partial);
            if (e is IOException or UnauthorizedAccessException)
                throw new EvoMergeException($"{folder}: writing failed ({e.Message}); nothing was written", e);
            throw;
        }
    }

    /// <summary>
    /// Partial folders and files beside <paramref name="output"/> left by runs that are gone (killed): named with
    /// <see cref="PartialInfix"/> and a process id that no longer runs. Listed, never deleted here.
    /// </summary>
    public static IReadOnlyList<string> StalePartials(string output)
    {
        string target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(output));
        string? parent = Path.GetDirectoryName(target);
        if (parent == null || !Directory.Exists(parent)) return [];
        string prefix = Path.GetFileName(target) + PartialInfix;
        return Directory.EnumerateFileSystemEntries(parent, prefix + "*")
            .Where(p => Path.GetFileName(p)[prefix.Length..].Split('-')[0] is var pid && int.TryParse(pid, out int id) && !Running(id))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    internal static bool Running(int pid)
    {
        try { using var p = System.Diagnostics.Process.GetProcessById(pid); return !p.HasExited; }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    /// <summary>A unique sibling name for partial output of <paramref name="target"/>.</summary>
    internal static string PartialName(string target) =>
        $"{target}{PartialInfix}{Environment.ProcessId}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}";

    static string CreatePartial(string target, string shown)
    {
        string parent = Path.GetDirectoryName(target)!;
        try { Directory.CreateDirectory(parent); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new EvoMergeException($"{shown}: cannot create the folder {parent} ({e.Message})", e);
        }
        for (int attempt = 0; ; attempt++)
        {
            string partial = PartialName(target);
            if (!FileSystemCalls.IsLinux)
            {
                if (Path.Exists(partial)) continue;
                Directory.CreateDirectory(partial);   // elsewhere: a 48-bit random name stands in for the exclusive mkdir
                return partial;
            }
            int errno = FileSystemCalls.CreateDirectoryExclusively(partial);
            if (errno == 0) return partial;
            if (errno == FileSystemCalls.EEXIST && attempt < 8) continue;
            throw new EvoMergeException($"{shown}: cannot create a folder in {parent} ({FileSystemCalls.Describe(errno)})");
        }
    }

    static void Publish(string partial, string target, string shown)
    {
        if (!FileSystemCalls.IsLinux)
        {
            try { Directory.Move(partial, target); }   // fails when the target exists
            catch (IOException) when (Path.Exists(target)) { throw Taken(shown); }
            return;
        }
        int errno = FileSystemCalls.RenameNoReplace(partial, target, () => FileSystemCalls.RenameOntoEmpty(partial, target));
        if (errno == FileSystemCalls.EEXIST && Directory.Exists(target) && new FileInfo(target).LinkTarget == null)
            errno = FileSystemCalls.RenameOntoEmpty(partial, target); // an empty folder the user made for the output
        if (errno is FileSystemCalls.EEXIST or FileSystemCalls.ENOTEMPTY or FileSystemCalls.ENOTDIR) throw Taken(shown);
        if (errno != 0) throw new EvoMergeException($"{shown}: cannot publish the output ({FileSystemCalls.Describe(errno)}); nothing was written");
    }

    static EvoMergeException Taken(string shown) =>
        new($"{shown}: was created by someone else while this run wrote (another evomerge into the same folder?); it was left as it is and this run's output was discarded");

    /// <summary>Deletes a partial folder this process created; never anything else.</summary>
    static void DeleteOwn(string partial)
    {
        try { if (Directory.Exists(partial)) Directory.Delete(partial, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* leftovers are documented */ }
    }
}
