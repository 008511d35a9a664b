using System.Text;

namespace EvoMerge.IO;

/// <summary>
/// Every file EvoMerge reads because a user or a model folder named it goes through here: only a regular file
/// (after symbolic links) is opened, so a FIFO cannot block and a device cannot stream forever, and nothing is read
/// past a byte cap, which is counted while reading (a device reports length 0, and a file can grow while read).
/// </summary>
public static class InputFile
{
    /// <summary>Caps for the kinds of file read whole: configs and recipes are kilobytes, indexes and tokenizers megabytes.</summary>
    public const long SmallFileBytes = 16L << 20, LargeFileBytes = 1L << 30;

    /// <summary>True when <paramref name="path"/> is a regular file (after symbolic links); false when absent.</summary>
    /// <exception cref="EvoMergeException">It exists but is a FIFO, a device or a socket.</exception>
    public static bool Exists(string path)
    {
        var kind = KindOf(path);
        if (kind == FileSystemCalls.Kind.Other) throw NotRegular(path);
        return kind == FileSystemCalls.Kind.Regular;
    }

    /// <summary>Throws unless <paramref name="path"/> is a regular file; <paramref name="what"/> names it in the error ("recipe file").</summary>
    public static void Require(string path, string what)
    {
        switch (KindOf(path))
        {
            case FileSystemCalls.Kind.Regular: return;
            case FileSystemCalls.Kind.Missing: throw new EvoMergeException($"{path}: {what} not found");
            case FileSystemCalls.Kind.Directory: throw new EvoMergeException($"{path}: is a folder, expected a {what}");
            default: throw NotRegular(path);
        }
    }

    /// <summary>The whole file, at most <paramref name="maxBytes"/> bytes.</summary>
    public static byte[] ReadAllBytes(string path, long maxBytes, string what = "file")
    {
        Require(path, what);
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            var buffer = new MemoryStream();
            CopyCapped(stream, buffer, maxBytes, path, what);
            return buffer.ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new EvoMergeException($"{path}: cannot read ({e.Message})", e);
        }
    }

    /// <summary>The whole file as text (UTF-8, BOM dropped; invalid bytes become U+FFFD), at most <paramref name="maxBytes"/> bytes.</summary>
    public static string ReadAllText(string path, long maxBytes, string what = "file")
    {
        var bytes = ReadAllBytes(path, maxBytes, what);
        var span = bytes.AsSpan();
        if (span.StartsWith(Encoding.UTF8.Preamble)) span = span[Encoding.UTF8.Preamble.Length..];
        return Encoding.UTF8.GetString(span);
    }

    /// <summary>The file's lines, streamed: at most <paramref name="maxBytes"/> bytes in all.</summary>
    public static IEnumerable<string> ReadLines(string path, long maxBytes, string what = "file")
    {
        Require(path, what);
        using var reader = new StreamReader(new CappedStream(OpenRead(path), maxBytes, path, what), Encoding.UTF8);
        while (true)
        {
            string? line;
            try { line = reader.ReadLine(); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new EvoMergeException($"{path}: cannot read ({e.Message})", e);
            }
            if (line == null) yield break;
            yield return line;
        }
    }

    static FileStream OpenRead(string path)
    {
        try { return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new EvoMergeException($"{path}: cannot read ({e.Message})", e);
        }
    }

    static void CopyCapped(Stream from, Stream to, long maxBytes, string path, string what)
    {
        var chunk = new byte[1 << 16];
        long total = 0;
        int read;
        while ((read = from.Read(chunk)) > 0)
        {
            total += read;
            if (total > maxBytes) throw TooLarge(path, maxBytes, what);
            to.Write(chunk, 0, read);
        }
    }

    static EvoMergeException TooLarge(string path, long maxBytes, string what) =>
        new($"{path}: more than {maxBytes} bytes, too large for a {what}");

    static EvoMergeException NotRegular(string path) =>
        new($"{path}: not a regular file (a FIFO, device or socket); EvoMerge reads only regular files");

    static FileSystemCalls.Kind KindOf(string path)
    {
        if (FileSystemCalls.IsLinux) return FileSystemCalls.Stat(path).Kind;
        // Elsewhere, .NET's view: no FIFO or device check (documented in docs/robustness.md).
        return File.Exists(path) ? FileSystemCalls.Kind.Regular : Directory.Exists(path) ? FileSystemCalls.Kind.Directory : FileSystemCalls.Kind.Missing;
    }

    /// <summary>A read-only stream that fails cleanly once more than its cap has been read.</summary>
    sealed class CappedStream(Stream inner, long maxBytes, string path, string what) : Stream
    {
        long _read;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = inner.Read(buffer, offset, count);
            _read += n;
            if (_read > maxBytes) throw TooLarge(path, maxBytes, what);
            return n;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
