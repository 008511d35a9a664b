namespace EvoMerge.IO;

/// <summary>
/// Writes one output file all or nothing, with the rules of <see cref="OutputFolder"/>: the path is checked up front,
/// the bytes go to an exclusively created partial file beside it, and the partial file is published with an atomic
/// rename that never replaces (renameat2 RENAME_NOREPLACE; where unsupported, link(2) then unlink, which fails the
/// same way when the name is taken). A file that exists is never overwritten.
/// </summary>
public static class OutputFile
{
    public static void Write(string path, Action<FileStream> write, IEnumerable<string>? inputs = null)
    {
        string target = OutputPath.Check(path, inputs, folder: false);
        string parent = Path.GetDirectoryName(target)!;
        if (!Directory.Exists(parent)) throw new EvoMergeException($"{path}: folder {parent} does not exist");
        string partial = OutputFolder.PartialName(target);
        FileStream stream;
        try { stream = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new EvoMergeException($"{path}: cannot create a file in {parent} ({e.Message})", e);
        }
        try
        {
            using (stream)
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            Publish(partial, target, path);
        }
        catch (Exception e)
        {
            try { File.Delete(partial); } catch (Exception d) when (d is IOException or UnauthorizedAccessException) { }
            if (e is IOException or UnauthorizedAccessException)
                throw new EvoMergeException($"{path}: writing failed ({e.Message}); nothing was written", e);
            throw;
        }
    }

    static void Publish(string partial, string target, string shown)
    {
        int errno;
        if (FileSystemCalls.IsLinux)
            errno = FileSystemCalls.RenameNoReplace(partial, target, () =>
            {
                int linked = FileSystemCalls.HardLink(partial, target);
                if (linked == 0) File.Delete(partial);
                return linked;
            });
        else
        {
            try { File.Move(partial, target, overwrite: false); errno = 0; }
            catch (IOException) when (Path.Exists(target)) { errno = FileSystemCalls.EEXIST; }
        }
        if (errno == FileSystemCalls.EEXIST)
            throw new EvoMergeException($"{shown}: was created by someone else while this run wrote; it was left as it is and this run's output was discarded");
        if (errno != 0) throw new EvoMergeException($"{shown}: cannot publish the output ({FileSystemCalls.Describe(errno)}); nothing was written");
    }
}
