using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using Microsoft.Win32.SafeHandles;

namespace EvoMerge.IO;

/// <summary>
/// One safetensors file, memory-mapped read-only. The header is validated when the file is opened
/// (<see cref="SafetensorsHeader"/>); tensor bytes are then handed out as spans straight over the mapping:
/// no copy, no allocation, safe to call from many threads at once. Spans stay valid until <see cref="Dispose"/>.
/// Streaming readers copy ranges out with <see cref="Read"/> instead (pread on the same file).
/// </summary>
public sealed unsafe class SafetensorsFile : IDisposable
{
    readonly MemoryMappedFile? _map;
    readonly MemoryMappedViewAccessor? _view;
    readonly byte* _data; // first byte of the data section
    readonly Dictionary<string, TensorInfo> _byName;
    readonly SafeFileHandle _handle;
    bool _disposed;

    public string Path { get; }

    /// <summary>Tensors in the order of their data in the file.</summary>
    public IReadOnlyList<TensorInfo> Tensors { get; }

    /// <summary>The header's <c>__metadata__</c> (e.g. <c>format: pt</c>); empty when absent.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Total size of the file in bytes.</summary>
    public long FileLength { get; }

    /// <summary>Byte offset of the data section: 8 (the header length) + the header's length.</summary>
    public long DataStart { get; }

    SafetensorsFile(string path, SafeFileHandle handle, long fileLength, long dataStart, TensorInfo[] tensors, Dictionary<string, string> metadata)
    {
        Path = path;
        _handle = handle;
        FileLength = fileLength;
        DataStart = dataStart;
        Tensors = tensors;
        Metadata = metadata;
        _byName = tensors.ToDictionary(t => t.Name);
        if (fileLength > dataStart)
        {
            // From the handle that was checked, not the path again: the file cannot be swapped in between.
            _map = MemoryMappedFile.CreateFromFile(handle, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
            _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* start = null;
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
            _data = start + _view.PointerOffset + dataStart;
        }
    }

    /// <summary>Opens and validates <paramref name="path"/>; every problem is an <see cref="EvoMergeException"/> naming the file.</summary>
    public static SafetensorsFile Open(string path)
    {
        string fullPath = System.IO.Path.GetFullPath(path);
        InputFile.Require(path, "safetensors file");   // a FIFO would block the open, a device has no header
        SafeFileHandle? handle = null;
        try
        {
            handle = File.OpenHandle(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read);
            long fileLength = RandomAccess.GetLength(handle);
            if (fileLength < 8)
                throw new EvoMergeException($"{path}: {fileLength} bytes is too short for a safetensors file (it starts with an 8-byte header length)");
            Span<byte> lengthBytes = stackalloc byte[8];
            RandomAccess.Read(handle, lengthBytes, 0);
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
            if (headerLength > SafetensorsHeader.MaxHeaderBytes)
                throw new EvoMergeException($"{path}: header length {headerLength} exceeds the {SafetensorsHeader.MaxHeaderBytes}-byte cap (not a safetensors file?)");
            if ((long)headerLength > fileLength - 8)
                throw new EvoMergeException($"{path}: header length {headerLength} runs past the end of the {fileLength}-byte file");
            var header = new byte[headerLength];
            RandomAccess.Read(handle, header, 8);
            long dataStart = 8 + (long)headerLength;
            var (tensors, metadata) = SafetensorsHeader.Parse(header, fileLength - dataStart, path);
            var file = new SafetensorsFile(fullPath, handle, fileLength, dataStart, tensors, metadata);
            handle = null; // the file owns it now
            return file;
        }
        catch (IOException e)
        {
            throw new EvoMergeException($"{path}: cannot read ({e.Message})", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new EvoMergeException($"{path}: cannot read ({e.Message})", e);
        }
        finally
        {
            handle?.Dispose();
        }
    }

    public bool Contains(string name) => _byName.ContainsKey(name);

    public bool TryGetInfo(string name, out TensorInfo info) => _byName.TryGetValue(name, out info!);

    public TensorInfo GetInfo(string name) => _byName.TryGetValue(name, out var info)
        ? info
        : throw new EvoMergeException($"{Path}: no tensor named '{name}'");

    /// <summary>All bytes of a tensor (little-endian, row-major). Tensors of 2 GiB or more need the ranged overload.</summary>
    public ReadOnlySpan<byte> GetBytes(string name) => GetBytes(GetInfo(name));

    /// <inheritdoc cref="GetBytes(string)"/>
    public ReadOnlySpan<byte> GetBytes(TensorInfo tensor)
    {
        if (tensor.ByteLength > int.MaxValue)
            throw new EvoMergeException($"{Path}: tensor '{tensor.Name}' has {tensor.ByteLength} bytes, more than one span holds: read it in ranges (GetBytes with a start and length, or SafetensorsModel.ReadFloat32)");
        return GetBytes(tensor, 0, (int)tensor.ByteLength);
    }

    /// <summary><paramref name="length"/> bytes of a tensor starting <paramref name="start"/> bytes into it: for chunked work on huge tensors.</summary>
    public ReadOnlySpan<byte> GetBytes(TensorInfo tensor, long start, int length)
    {
        CheckRange(tensor, start, length);
        return length == 0 ? ReadOnlySpan<byte>.Empty : new ReadOnlySpan<byte>(_data + tensor.DataOffset + start, length);
    }

    /// <summary>
    /// Copies the tensor's bytes [<paramref name="start"/>, + destination.Length) into <paramref name="destination"/>
    /// with pread. For streaming a tensor once this beats touching the mapping: the kernel copies from the page cache
    /// without a page fault per 64 KiB, the pages never enter this process's resident set, and nothing has to be
    /// unmapped afterwards (unmapping pages another core has seen costs a TLB-shootdown interrupt per call).
    /// Reads ahead of a streaming reader (<see cref="ReadAhead"/>).
    /// </summary>
    public void Read(TensorInfo tensor, long start, Span<byte> destination)
    {
        CheckRange(tensor, start, destination.Length);
        ReadAhead(tensor, start, destination.Length);
        long position = DataStart + tensor.DataOffset + start;
        while (!destination.IsEmpty)
        {
            int read = RandomAccess.Read(_handle, destination, position);
            if (read <= 0) throw new EvoMergeException($"{Path}: the file ended inside tensor '{tensor.Name}' (truncated while open?)");
            destination = destination[read..];
            position += read;
        }
    }

    /// <summary>Bytes of a tensor the kernel is asked to fetch ahead of a streaming reader (<see cref="ReadAhead"/>).</summary>
    const long ReadAheadBytes = 8 << 20;

    /// <summary>
    /// A read that starts a new 8 MiB window of the tensor asks the kernel for the rest of that window and the next
    /// one in the background, so that inputs not in the page cache (a 7B merge reads 43 GB: more than most machines
    /// cache) come from disk while the window before is being merged, instead of one blocking read at a time. The
    /// other reads of the window ask nothing: the request costs a page-cache lookup per page even when all are there.
    /// </summary>
    void ReadAhead(TensorInfo tensor, long start, int length)
    {
        long end = start + length, window = end / ReadAheadBytes;
        if (start % ReadAheadBytes != 0 && start / ReadAheadBytes == window) return;
        long until = Math.Min(tensor.ByteLength, (window + 2) * ReadAheadBytes);
        FileSystemCalls.ReadAhead(_handle, DataStart + tensor.DataOffset + end, until - end);
    }

    void CheckRange(TensorInfo tensor, long start, int length)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_byName.TryGetValue(tensor.Name, out var own) || !ReferenceEquals(own, tensor))
            throw new ArgumentException($"tensor '{tensor.Name}' does not belong to {Path}", nameof(tensor));
        if (start < 0 || length < 0 || start + length > tensor.ByteLength)
            throw new ArgumentOutOfRangeException(nameof(start), $"range [{start}, {start + length}) is outside tensor '{tensor.Name}' of {tensor.ByteLength} bytes");
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _view?.SafeMemoryMappedViewHandle.ReleasePointer();
        _view?.Dispose();
        _map?.Dispose();
        _handle.Dispose();
    }
}
