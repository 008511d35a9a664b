using System.Text;
using EvoMerge.Evolution.Run;

namespace EvoMerge.Reporting;

/// <summary>
/// Follows a journal that another process may be appending to: each <see cref="Read"/> parses only the complete
/// lines written since the last one. A partial last line (a write in progress, or a run killed mid-write) waits
/// until its newline arrives; a line that is not an entry is skipped and reported, so a viewer shows what it can.
/// The file is opened read-only and shared, never locked against the writer.
/// </summary>
public sealed class JournalTail(string path)
{
    /// <summary>Longest line kept in memory; a longer one (no real entry is near it) is skipped as malformed.</summary>
    public const int MaxLineBytes = 8 << 20;
    const int ChunkBytes = 1 << 16;

    readonly List<string> _errors = [];
    long _offset;
    int _lineNumber;

    public string Path { get; } = path;
    /// <summary>Bytes after the last complete line: nonzero while a line is being written, or after a kill mid-write.</summary>
    public long PartialBytes { get; private set; }
    /// <summary>One message per line that could not be read, naming file and line.</summary>
    public IReadOnlyList<string> Errors => _errors;

    /// <summary>
    /// The entries completed since the last call. <paramref name="restarted"/> is true when the file became shorter
    /// than what was already read (the folder holds a new run): the caller drops what it had, and gets every entry again.
    /// </summary>
    public IReadOnlyList<JournalEntry> Read(out bool restarted)
    {
        restarted = false;
        var entries = new List<JournalEntry>();
        var info = new FileInfo(Path);
        // Length 0 also covers a FIFO or device standing in for the file: those are never opened (a read could block).
        if (!info.Exists || info.Length == 0) { restarted = Reset(_offset > 0); return entries; }
        if (info.Length < _offset) restarted = Reset(true);

        using var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
        stream.Position = _offset;
        var line = new MemoryStream();
        bool skipping = false;
        var buffer = new byte[ChunkBytes];
        long position = _offset;
        for (int n; (n = stream.Read(buffer)) > 0;)
        {
            int start = 0;
            for (int i = Array.IndexOf(buffer, (byte)'\n', 0, n); i >= 0; i = Array.IndexOf(buffer, (byte)'\n', start, n - start))
            {
                if (!skipping) line.Write(buffer, start, i - start);
                _lineNumber++;
                if (skipping) _errors.Add($"{Path}: line {_lineNumber}: longer than {MaxLineBytes >> 20} MiB, skipped");
                else Parse(line, entries);
                line.SetLength(0);
                skipping = false;
                start = i + 1;
                _offset = position + start;
            }
            if (!skipping) line.Write(buffer, start, n - start);
            if (line.Length > MaxLineBytes) { skipping = true; line.SetLength(0); }
            position += n;
        }
        PartialBytes = position - _offset;
        return entries;
    }

    void Parse(MemoryStream line, List<JournalEntry> entries)
    {
        if (line.Length == 0) return;
        string text = Encoding.UTF8.GetString(line.GetBuffer(), 0, (int)line.Length);
        try { entries.Add(Journal.ParseLine(Path, _lineNumber, text)); }
        catch (EvoMergeException e) { _errors.Add(e.Message); }
    }

    bool Reset(bool wasRead)
    {
        _offset = 0;
        _lineNumber = 0;
        PartialBytes = 0;
        _errors.Clear();
        return wasRead;
    }
}
