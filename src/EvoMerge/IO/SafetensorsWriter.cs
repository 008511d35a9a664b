using System.Buffers;
using System.Buffers.Binary;
using System.Text.Json;

namespace EvoMerge.IO;

/// <summary>
/// Writes a model as safetensors, tensor by tensor, as the tensors are produced. The caller declares every tensor
/// (name, dtype, shape) up front, so each shard's header is known before any data arrives: the writer lays the
/// shards out by a byte budget, writes headers first, and then puts each tensor's bytes straight at its offset.
/// Different tensors may be written from different threads at once, in any order, and in pieces.
/// Written bytes start on their way to disk in the background every <see cref="WriteBehindBytes"/> per shard.
/// Files carry a <c>.partial</c> suffix until <see cref="Complete"/> has checked that every byte was written,
/// flushed them to disk and renamed them; the index is written last. Disposing without completing deletes them,
/// so a crash or an error never leaves a model that looks whole.
/// </summary>
public sealed class SafetensorsWriter : IDisposable
{
    /// <summary>Hugging Face's default shard budget (<c>max_shard_size="5GB"</c>).</summary>
    public const long DefaultMaxShardBytes = 5_000_000_000;

    const string PartialSuffix = ".partial";
    const int ConversionChunkElements = 1 << 16;

    readonly string _folder;
    readonly string _stem;
    readonly Shard[] _shards;
    readonly Dictionary<string, Slot> _slots;
    readonly long[] _written; // bytes written per slot, updated with Interlocked
    bool _completed, _disposed;

    /// <summary>
    /// Bytes a shard collects in the page cache before the writer starts writing them to disk in the background. Without
    /// it nothing reaches the disk until <see cref="Complete"/>'s fsync (the kernel waits for 10% of memory to be dirty,
    /// or 30 s), so the whole output's disk write came after the merge instead of beside it.
    /// </summary>
    const long WriteBehindBytes = 32 << 20;

    sealed record Shard(string FileName, FileStream Stream)
    {
        /// <summary>Bytes written since the last background writeback started.</summary>
        public long Unflushed;
    }
    sealed record Slot(int Index, TensorSpec Spec, Shard Shard, long FileOffset);

    SafetensorsWriter(string folder, string stem, Shard[] shards, Dictionary<string, Slot> slots)
    {
        _folder = folder;
        _stem = stem;
        _shards = shards;
        _slots = slots;
        _written = new long[slots.Count];
    }

    /// <summary>
    /// Plans the shards and writes their headers. One shard is named <c>model.safetensors</c>; several are
    /// <c>model-0000i-of-0000n.safetensors</c> with <c>model.safetensors.index.json</c>. A tensor larger than the
    /// budget gets a shard of its own. <paramref name="metadata"/> is added to <c>__metadata__</c>, which always
    /// has <c>format: pt</c>. <paramref name="fileStem"/> replaces <c>model</c> in the names (diffusers' UNet and VAE
    /// files are <c>diffusion_pytorch_model.safetensors</c>).
    /// </summary>
    public static SafetensorsWriter Create(string folder, IEnumerable<TensorSpec> tensors,
        long maxShardBytes = DefaultMaxShardBytes, IReadOnlyDictionary<string, string>? metadata = null, string fileStem = "model")
    {
        if (maxShardBytes <= 0) throw new ArgumentOutOfRangeException(nameof(maxShardBytes));
        var specs = tensors.ToList();
        var seen = new HashSet<string>();
        foreach (var s in specs)
        {
            if (!seen.Add(s.Name)) throw new ArgumentException($"tensor '{s.Name}' is declared twice", nameof(tensors));
            if (s.Name == SafetensorsHeader.MetadataKey) throw new ArgumentException($"'{s.Name}' is reserved for metadata", nameof(tensors));
            if (s.Shape.Any(d => d < 0)) throw new ArgumentException($"tensor '{s.Name}' has a negative size in shape [{string.Join(", ", s.Shape)}]", nameof(tensors));
        }
        var groups = PlanShards(specs, maxShardBytes);
        var meta = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>()) { ["format"] = "pt" };
        Directory.CreateDirectory(folder);

        var shards = new List<Shard>();
        var slots = new Dictionary<string, Slot>();
        try
        {
            for (int g = 0; g < groups.Count; g++)
            {
                string fileName = groups.Count == 1 ? fileStem + ".safetensors" : $"{fileStem}-{g + 1:D5}-of-{groups.Count:D5}.safetensors";
                byte[] header = BuildHeader(groups[g], meta);
                var stream = new FileStream(Path.Combine(folder, fileName + PartialSuffix), FileMode.Create, FileAccess.ReadWrite, FileShare.None, bufferSize: 0);
                var shard = new Shard(fileName, stream);
                shards.Add(shard);
                RandomAccess.Write(stream.SafeFileHandle, header, 0);
                long offset = header.Length;
                foreach (var spec in groups[g])
                {
                    slots.Add(spec.Name, new Slot(slots.Count, spec, shard, offset));
                    offset += spec.ByteLength;
                }
                stream.SetLength(offset);
            }
        }
        catch (Exception e)
        {
            foreach (var s in shards) DeletePartial(folder, s);
            if (e is IOException or UnauthorizedAccessException)
                throw new EvoMergeException($"{folder}: cannot write the model ({e.Message})", e);
            throw;
        }
        return new SafetensorsWriter(folder, fileStem, shards.ToArray(), slots);
    }

    static List<List<TensorSpec>> PlanShards(List<TensorSpec> specs, long maxShardBytes)
    {
        var groups = new List<List<TensorSpec>> { new() };
        long size = 0;
        foreach (var spec in specs)
        {
            if (size > 0 && size + spec.ByteLength > maxShardBytes)
            {
                groups.Add([]);
                size = 0;
            }
            groups[^1].Add(spec);
            size += spec.ByteLength;
        }
        return groups;
    }

    /// <summary>The header JSON, padded with spaces so that data starts 8-byte aligned (as Hugging Face's writer does), with its length prefix.</summary>
    static byte[] BuildHeader(List<TensorSpec> specs, Dictionary<string, string> metadata)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartObject(SafetensorsHeader.MetadataKey);
            foreach (var (k, v) in metadata) json.WriteString(k, v);
            json.WriteEndObject();
            long offset = 0;
            foreach (var spec in specs)
            {
                json.WriteStartObject(spec.Name);
                json.WriteString("dtype", spec.DType.SafetensorsName());
                json.WriteStartArray("shape");
                foreach (long d in spec.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset += spec.ByteLength);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        int padded = (buffer.WrittenCount + 7) / 8 * 8;
        var header = new byte[8 + padded];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)padded);
        buffer.WrittenSpan.CopyTo(header.AsSpan(8));
        header.AsSpan(8 + buffer.WrittenCount).Fill((byte)' ');
        return header;
    }

    /// <summary>Writes raw bytes (already in the declared dtype) of a tensor, starting <paramref name="byteOffset"/> bytes into it.</summary>
    public void WriteBytes(string name, ReadOnlySpan<byte> bytes, long byteOffset = 0)
    {
        var slot = SlotOf(name);
        CheckRange(slot, byteOffset, bytes.Length);
        try
        {
            RandomAccess.Write(slot.Shard.Stream.SafeFileHandle, bytes, slot.FileOffset + byteOffset);
        }
        catch (IOException e) // typically a full disk: the user can fix that
        {
            throw new EvoMergeException($"{Path.Combine(_folder, slot.Shard.FileName)}: cannot write tensor '{name}' ({e.Message})", e);
        }
        Interlocked.Add(ref _written[slot.Index], bytes.Length);
        if (Interlocked.Add(ref slot.Shard.Unflushed, bytes.Length) >= WriteBehindBytes && Interlocked.Exchange(ref slot.Shard.Unflushed, 0) >= WriteBehindBytes)
            FileSystemCalls.StartWriteback(slot.Shard.Stream.SafeFileHandle);
    }

    static void CheckRange(Slot slot, long byteOffset, long byteCount)
    {
        if (byteOffset < 0 || byteOffset + byteCount > slot.Spec.ByteLength)
            throw new ArgumentOutOfRangeException(nameof(byteOffset), $"bytes [{byteOffset}, {byteOffset + byteCount}) are outside tensor '{slot.Spec.Name}' of {slot.Spec.ByteLength} bytes");
    }

    /// <summary>Writes float32 values of a tensor, converted to its declared float dtype, starting <paramref name="elementOffset"/> elements into it.</summary>
    public void WriteFloat32(string name, ReadOnlySpan<float> values, long elementOffset = 0)
    {
        var slot = SlotOf(name);
        int size = slot.Spec.DType.ElementSize();
        CheckRange(slot, elementOffset * size, (long)values.Length * size); // before any chunk lands
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ConversionChunkElements * size);
        try
        {
            for (int start = 0; start < values.Length; start += ConversionChunkElements)
            {
                var chunk = values.Slice(start, Math.Min(ConversionChunkElements, values.Length - start));
                var bytes = buffer.AsSpan(0, chunk.Length * size);
                FloatConversion.FromFloat32(chunk, slot.Spec.DType, bytes);
                WriteBytes(name, bytes, (elementOffset + start) * size);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    Slot SlotOf(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_completed) throw new InvalidOperationException("the model is already complete");
        return _slots.TryGetValue(name, out var slot) ? slot : throw new ArgumentException($"tensor '{name}' was not declared", nameof(name));
    }

    /// <summary>
    /// Checks that every declared byte was written, flushes the shards to disk, renames them to their final names
    /// and writes the index (when sharded). Returns the paths of the files written.
    /// </summary>
    public IReadOnlyList<string> Complete()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var missing = _slots.Values.Where(s => Interlocked.Read(ref _written[s.Index]) != s.Spec.ByteLength).Select(s => s.Spec.Name).ToList();
        if (missing.Count > 0)
            throw new InvalidOperationException($"{missing.Count} tensor(s) not fully written, e.g. '{missing[0]}'");
        _completed = true;
        var written = new List<string>();
        foreach (var shard in _shards)
        {
            shard.Stream.Flush(flushToDisk: true);
            shard.Stream.Dispose();
            string final = Path.Combine(_folder, shard.FileName);
            File.Move(final + PartialSuffix, final, overwrite: true);
            written.Add(final);
        }
        RemoveStaleWeights();
        if (_shards.Length > 1)
        {
            string index = Path.Combine(_folder, _stem + ".safetensors.index.json");
            WriteIndex(index);
            written.Add(index);
        }
        return written;
    }

    /// <summary>
    /// Weights left in the folder by an earlier write of another layout (a single file, an index, shards of
    /// another count) would shadow or collide with this model when the folder is opened: remove them.
    /// </summary>
    void RemoveStaleWeights()
    {
        var ours = _shards.Select(s => s.FileName).ToHashSet();
        var stale = Directory.GetFiles(_folder, _stem + "-*-of-*.safetensors")
            .Append(Path.Combine(_folder, _stem + ".safetensors"))
            .Append(Path.Combine(_folder, _stem + ".safetensors.index.json"))
            .Where(p => !ours.Contains(Path.GetFileName(p)));
        foreach (string path in stale) File.Delete(path);
    }

    void WriteIndex(string path)
    {
        using (var stream = File.Create(path + PartialSuffix))
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteStartObject("metadata");
            json.WriteNumber("total_size", _slots.Values.Sum(s => s.Spec.ByteLength));
            json.WriteEndObject();
            json.WriteStartObject("weight_map");
            foreach (var slot in _slots.Values.OrderBy(s => s.Index)) json.WriteString(slot.Spec.Name, slot.Shard.FileName);
            json.WriteEndObject();
            json.WriteEndObject();
            json.Flush();
            stream.Flush(flushToDisk: true);
        }
        File.Move(path + PartialSuffix, path, overwrite: true);
    }

    static void DeletePartial(string folder, Shard shard)
    {
        shard.Stream.Dispose();
        File.Delete(Path.Combine(folder, shard.FileName + PartialSuffix));
    }

    /// <summary>Deletes the partial files unless <see cref="Complete"/> succeeded.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (!_completed)
            foreach (var shard in _shards) DeletePartial(_folder, shard);
    }
}
