using System.Buffers;
using System.Text;

namespace EvoMerge.IO.Gguf;

/// <summary>One tensor to write: its GGUF name, shape in PyTorch order (outermost first), the type to store it
/// as, and a callback that fills a float32 buffer of the tensor's element count, read only when it is written.</summary>
public sealed record GgufTensor(string Name, long[] Shape, GgufTensorType Type, Action<Span<float>> ReadValues)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
    public long ByteCount => GgufEncoding.ByteCount(Type, ElementCount);
}

/// <summary>Progress of a GGUF write: tensors done out of the total, and the one being written.</summary>
public readonly record struct GgufWriteProgress(int Done, int Total, string Tensor);

/// <summary>
/// Writes a GGUF v3 file: header, metadata, tensor directory, then each tensor's data aligned to
/// <see cref="Alignment"/> bytes. Streams one tensor at a time into a partial file that becomes the destination
/// only when complete (<see cref="OutputFile"/>): a failed export leaves nothing, and an existing file is never replaced.
/// </summary>
public static class GgufWriter
{
    /// <summary>GGUF's default data alignment (also written as <c>general.alignment</c>).</summary>
    public const int Alignment = 32;
    const uint Magic = 0x46554747; // "GGUF" read as a little-endian uint32
    const uint Version = 3;

    public static void Write(string path, GgufMetadata metadata, IReadOnlyList<GgufTensor> tensors, IProgress<GgufWriteProgress>? progress = null)
    {
        foreach (var t in tensors)
            if (t.Shape.Length == 0 || !GgufEncoding.Supports(t.Type, t.Shape[^1]))
                throw new ArgumentException($"tensor '{t.Name}' [{string.Join(", ", t.Shape)}] cannot be stored as {t.Type}");
        OutputFile.Write(path, stream =>
        {
            var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            WriteHeader(w, metadata, tensors);
            w.Flush();
            Pad(stream);
            WriteData(stream, tensors, progress);
        });
    }

    static void WriteHeader(BinaryWriter w, GgufMetadata metadata, IReadOnlyList<GgufTensor> tensors)
    {
        w.Write(Magic);
        w.Write(Version);
        w.Write((ulong)tensors.Count);
        w.Write((ulong)metadata.Entries.Count);
        foreach (var e in metadata.Entries)
        {
            WriteString(w, e.Key);
            w.Write((uint)e.Type);
            WriteValue(w, e);
        }
        ulong offset = 0;
        foreach (var t in tensors)
        {
            WriteString(w, t.Name);
            w.Write((uint)t.Shape.Length);
            // ggml lists dimensions innermost first (ne[0] is the row length): the reverse of PyTorch's shape.
            for (int d = t.Shape.Length - 1; d >= 0; d--) w.Write((ulong)t.Shape[d]);
            w.Write((uint)t.Type);
            w.Write(offset);
            offset += (ulong)AlignUp(t.ByteCount);
        }
    }

    static void WriteValue(BinaryWriter w, GgufMetadata.Entry e)
    {
        switch (e.Value)
        {
            case string s: WriteString(w, s); break;
            case uint u: w.Write(u); break;
            case int i: w.Write(i); break;
            case float f: w.Write(f); break;
            case bool b: w.Write((byte)(b ? 1 : 0)); break;
            case IReadOnlyList<string> list:
                WriteArrayHeader(w, GgufValueType.String, list.Count);
                foreach (var s in list) WriteString(w, s);
                break;
            case IReadOnlyList<float> list:
                WriteArrayHeader(w, GgufValueType.Float32, list.Count);
                foreach (var f in list) w.Write(f);
                break;
            case IReadOnlyList<int> list:
                WriteArrayHeader(w, GgufValueType.Int32, list.Count);
                foreach (var i in list) w.Write(i);
                break;
            default:
                throw new InvalidOperationException($"GGUF metadata '{e.Key}': unsupported value {e.Value.GetType().Name}");
        }
    }

    static void WriteArrayHeader(BinaryWriter w, GgufValueType elementType, int count)
    {
        w.Write((uint)elementType);
        w.Write((ulong)count);
    }

    static void WriteString(BinaryWriter w, string s)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    static void WriteData(FileStream stream, IReadOnlyList<GgufTensor> tensors, IProgress<GgufWriteProgress>? progress)
    {
        for (int i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i];
            progress?.Report(new(i, tensors.Count, t.Name));
            int count = checked((int)t.ElementCount);
            int bytes = checked((int)t.ByteCount);
            float[] values = ArrayPool<float>.Shared.Rent(count);
            byte[] encoded = ArrayPool<byte>.Shared.Rent(bytes);
            try
            {
                values.AsSpan(0, count).Clear();
                t.ReadValues(values.AsSpan(0, count));
                GgufEncoding.Encode(t.Type, values.AsSpan(0, count), encoded.AsSpan(0, bytes));
                stream.Write(encoded, 0, bytes);
                Pad(stream);
            }
            finally
            {
                ArrayPool<float>.Shared.Return(values);
                ArrayPool<byte>.Shared.Return(encoded);
            }
        }
        progress?.Report(new(tensors.Count, tensors.Count, ""));
    }

    static long AlignUp(long n) => (n + Alignment - 1) / Alignment * Alignment;

    static void Pad(Stream stream)
    {
        Span<byte> zeros = stackalloc byte[Alignment];
        zeros.Clear();
        stream.Write(zeros[..(int)(AlignUp(stream.Position) - stream.Position)]);
    }
}
