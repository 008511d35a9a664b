namespace EvoMerge.IO;

/// <summary>
/// Writes a model folder all or nothing: the content goes into <c>&lt;folder&gt;.partial</c>, which is renamed to
/// the folder only when complete and deleted on failure, so nothing half written ever looks like a model.
/// (<see cref="SafetensorsWriter"/> alone makes the weights atomic; this makes config, tokenizer and weights one unit.)
/// </summary>
public static class OutputFolder
{
    /// <summary>Calls <paramref name="writeInto"/> with the partial folder, then renames it to <paramref name="folder"/>, which must be absent or empty.</summary>
    public static void Write(string folder, Action<string> writeInto)
    {
        string target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
            throw new EvoMergeException($"{folder}: already exists and is not empty; choose a new output folder");
        if (File.Exists(target))
            throw new EvoMergeException($"{folder}: is a file; choose a new output folder");
        string partial = target + ".partial";
        if (Directory.Exists(partial)) Directory.Delete(partial, recursive: true);
        Directory.CreateDirectory(partial);
        try
        {
            writeInto(partial);
            if (Directory.Exists(target)) Directory.Delete(target);
            Directory.Move(partial, target);
        }
        catch
        {
            if (Directory.Exists(partial)) Directory.Delete(partial, recursive: true);
            throw;
        }
    }
}
