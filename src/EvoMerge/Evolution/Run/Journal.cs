using System.Text;
using System.Text.Json;
using EvoMerge.IO;

namespace EvoMerge.Evolution.Run;

/// <summary>
/// The append-only record of every scored candidate (<c>journal.jsonl</c>, one <see cref="JournalEntry"/> per
/// line). An entry is appended, flushed and synced only after its evaluation finished, so a process killed at
/// any moment leaves whole lines plus at most one partial last line, which <see cref="Open"/> cuts off.
/// </summary>
public sealed class Journal : IDisposable
{
    readonly FileStream _stream;
    readonly List<JournalEntry> _entries;
    readonly Dictionary<(string Stage, string Kind, int Generation, int Index), JournalEntry> _byPosition = new();

    Journal(FileStream stream, List<JournalEntry> entries)
    {
        _stream = stream;
        _entries = entries;
        foreach (var e in entries) _byPosition[(e.Stage, e.Kind, e.Generation, e.Index)] = e;
    }

    public IReadOnlyList<JournalEntry> Entries => _entries;

    /// <summary>Opens (or creates) the journal for appending, after reading the entries already there.</summary>
    public static Journal Open(string path)
    {
        InputFile.Exists(path);   // a FIFO or device in its place is an error, not a hang
        var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        int complete = Array.LastIndexOf(bytes, (byte)'\n') + 1;   // a kill during a write leaves a partial tail
        var entries = Parse(path, Encoding.UTF8.GetString(bytes, 0, complete));
        stream.SetLength(complete);
        stream.Position = complete;
        return new Journal(stream, entries);
    }

    /// <summary>Reads a journal without opening it for writing (the report); a partial last line is ignored.</summary>
    public static IReadOnlyList<JournalEntry> Read(string path)
    {
        if (!InputFile.Exists(path)) throw new EvoMergeException($"{path}: journal not found (is this a run folder?)");
        string text = InputFile.ReadAllText(path, InputFile.LargeFileBytes, "journal");
        return Parse(path, text[..(text.LastIndexOf('\n') + 1)]);
    }

    public JournalEntry? Find(string stage, string kind, int generation, int index) =>
        _byPosition.GetValueOrDefault((stage, kind, generation, index));

    public void Append(JournalEntry entry)
    {
        var line = JsonSerializer.SerializeToUtf8Bytes(entry, RunJson.Options);
        _stream.Write(line);
        _stream.WriteByte((byte)'\n');
        _stream.Flush(flushToDisk: true);
        _entries.Add(entry);
        _byPosition[(entry.Stage, entry.Kind, entry.Generation, entry.Index)] = entry;
    }

    public void Dispose() => _stream.Dispose();

    static List<JournalEntry> Parse(string path, string text)
    {
        var entries = new List<JournalEntry>();
        int lineNumber = 0;
        foreach (var line in text.Split('\n'))
        {
            lineNumber++;
            if (line.Length == 0) continue;
            entries.Add(ParseLine(path, lineNumber, line));
        }
        return entries;
    }

    /// <summary>One line of the journal as an entry; a line that is not one throws, naming file and line.</summary>
    public static JournalEntry ParseLine(string path, int lineNumber, string line)
    {
        try
        {
            var entry = JsonSerializer.Deserialize<JournalEntry>(line, RunJson.Options);
            // Positional records take null for absent keys; every reader relies on these.
            if (entry?.Stage is null || entry.Kind is null || entry.Candidate is null || entry.Scores is null)
                throw new JsonException("stage, kind, candidate and scores are required");
            return entry;
        }
        catch (JsonException e) { throw new EvoMergeException($"{path}: line {lineNumber}: not a journal entry: {e.Message}", e); }
    }
}
