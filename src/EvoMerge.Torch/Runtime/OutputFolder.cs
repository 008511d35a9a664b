namespace EvoMerge.Torch.Runtime;

/// <summary>
/// Writes a model folder all-or-nothing: the content goes to <c>&lt;folder&gt;.partial</c>, which is renamed to
/// the folder only when complete and deleted on failure, so nothing half written ever looks like a model.
/// </summary>
public static class OutputFolder
{
    public static void Write(string folder, Action<string> writeInto)
    {
        string target = Path.GetFullPath(folder);
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
            throw new EvoMergeException($"{folder}: already exists and is not empty; choose a new output folder");
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
