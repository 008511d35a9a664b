namespace EvoMerge.IO;

/// <summary>
/// Checks an output path before any work starts: not a file where a folder is wanted (or the reverse), not a
/// non-empty folder, a name the file system accepts, and neither equal to, inside nor above any input once
/// symbolic links are resolved, so a merge can never write into a model it reads.
/// </summary>
public static class OutputPath
{
    /// <summary>
    /// Longest output name accepted, in UTF-8 bytes: the file system's 255 less room for the partial suffix
    /// (<see cref="OutputFolder"/>), so an over-long name fails here and not after the work.
    /// </summary>
    public const int MaxNameBytes = 200;

    /// <summary>The full path of <paramref name="output"/> once checked; <paramref name="folder"/>: a folder (else a file) is wanted.</summary>
    public static string Check(string output, IEnumerable<string>? inputs, bool folder)
    {
        if (string.IsNullOrWhiteSpace(output)) throw new EvoMergeException("the output path is empty");
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(output));
        string name = Path.GetFileName(full);
        if (name.Length == 0) throw new EvoMergeException($"{output}: is a root folder; choose a new output folder");
        if (System.Text.Encoding.UTF8.GetByteCount(name) > MaxNameBytes)
            throw new EvoMergeException($"{output}: the name is {System.Text.Encoding.UTF8.GetByteCount(name)} bytes long; at most {MaxNameBytes} are allowed");
        CheckOutside(output, inputs, refuseAbove: true);
        if (File.Exists(full))
            throw new EvoMergeException(folder ? $"{output}: is a file; choose a new output folder" : $"{output}: already exists; choose a new file name or delete it");
        if (Directory.Exists(full))
        {
            if (!folder) throw new EvoMergeException($"{output}: is a folder; give a file name");
            if (new FileInfo(full).LinkTarget != null)
                throw new EvoMergeException($"{output}: is a symbolic link; give the folder it points to, or a new folder");
            if (Directory.EnumerateFileSystemEntries(full).Any())
                throw new EvoMergeException($"{output}: already exists and is not empty; choose a new output folder");
        }
        else if (new FileInfo(full).LinkTarget != null)
            throw new EvoMergeException($"{output}: is a dangling symbolic link; choose a new output {(folder ? "folder" : "file")}");
        return full;
    }

    /// <summary>
    /// Throws when <paramref name="output"/> is equal to or inside any of <paramref name="inputs"/> after resolving
    /// symbolic links (and, with <paramref name="refuseAbove"/>, when it contains one).
    /// </summary>
    public static void CheckOutside(string output, IEnumerable<string>? inputs, bool refuseAbove)
    {
        string real = Resolve(Path.TrimEndingDirectorySeparator(Path.GetFullPath(output)));
        foreach (string input in inputs ?? [])
        {
            string inputReal = Resolve(Path.TrimEndingDirectorySeparator(Path.GetFullPath(input)));
            if (Same(real, inputReal))
                throw new EvoMergeException($"{output}: is the input {input}; inputs are never written");
            if (Inside(real, inputReal))
                throw new EvoMergeException($"{output}: is inside the input {input}; inputs are never written, choose a folder outside it");
            if (refuseAbove && Inside(inputReal, real))
                throw new EvoMergeException($"{output}: contains the input {input}; choose a new output folder");
        }
    }

    /// <summary>
    /// The real path of <paramref name="fullPath"/>: its longest existing prefix with every symbolic link and ".."
    /// resolved (realpath), followed by the part that does not exist yet.
    /// </summary>
    public static string Resolve(string fullPath)
    {
        var missing = new Stack<string>();
        string existing = Path.TrimEndingDirectorySeparator(fullPath);
        while (!Path.Exists(existing) && Path.GetDirectoryName(existing) is { } parent)
        {
            missing.Push(Path.GetFileName(existing));
            existing = parent;
        }
        string real = (FileSystemCalls.IsLinux ? FileSystemCalls.Resolve(existing) : null) ?? existing;
        while (missing.Count > 0) real = Path.Combine(real, missing.Pop());
        return real;
    }

    static bool Same(string a, string b) => string.Equals(a, b, StringComparison.Ordinal);

    static bool Inside(string path, string folder) =>
        path.StartsWith(Path.TrimEndingDirectorySeparator(folder) + Path.DirectorySeparatorChar, StringComparison.Ordinal);
}
