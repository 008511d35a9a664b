using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using EvoMerge.IO;

namespace EvoMerge.Evaluation;

/// <summary>
/// Streams <see cref="ItemResult"/>s to a JSONL file, one object per line with snake_case keys and unescaped
/// non-ASCII text (Japanese stays readable). Writes to a temporary name and renames on <see cref="Complete"/>,
/// so an interrupted run never leaves a file that looks finished; disposing without completing deletes it.
/// </summary>
public sealed class ItemJsonlWriter : IDisposable
{
    static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    readonly string _path;
    readonly string _temporary;
    readonly StreamWriter _writer;
    bool _completed;

    public ItemJsonlWriter(string path)
    {
        _path = Path.GetFullPath(path);
        string? folder = Path.GetDirectoryName(_path);
        if (folder != null && !Directory.Exists(folder)) throw new EvoMergeException($"--out: folder '{folder}' does not exist");
        // A partial file of this run's own (created exclusively): a user's "<out>.partial" is never truncated.
        _temporary = OutputFolder.PartialName(_path);
        try { _writer = new StreamWriter(new FileStream(_temporary, FileMode.CreateNew, FileAccess.Write), new System.Text.UTF8Encoding(false)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new EvoMergeException($"--out: cannot create a file in '{folder}' ({e.Message})", e);
        }
    }

    public void Write(ItemResult item)
    {
        _writer.Write(JsonSerializer.Serialize(item, Options));
        _writer.Write('\n');
    }

    /// <summary>Flushes and moves the file to its final name.</summary>
    public void Complete()
    {
        _writer.Dispose();
        File.Move(_temporary, _path, overwrite: true);
        _completed = true;
    }

    public void Dispose()
    {
        if (_completed) return;
        _writer.Dispose();
        File.Delete(_temporary);
    }
}
