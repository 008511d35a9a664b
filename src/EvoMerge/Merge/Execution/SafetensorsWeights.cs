using System.Runtime.InteropServices;
using EvoMerge.IO;

namespace EvoMerge.Merge.Execution;

/// <summary>
/// A safetensors model (one file or shards) as a weight source; bf16/f16/f32 convert on read. Ranges are copied out
/// with pread through a small per-thread staging buffer (float32 straight into the destination), not read from the
/// mapping: a merge reads each input once, and this keeps the inputs out of the resident set without page faults or
/// unmapping (see <see cref="SafetensorsFile.Read"/>).
/// </summary>
public sealed class SafetensorsWeights(SafetensorsModel model, string label) : IWeightSource
{
    /// <summary>256 KiB: a 128 Ki-element bf16 chunk, small enough to stay in a core's L2 cache while it is converted.</summary>
    const int StagingBytes = 1 << 18;

    [ThreadStatic] static byte[]? t_staging;

    public string Label { get; } = label;

    public SafetensorsModel Model { get; } = model;

    public IEnumerable<string> TensorNames => Model.Tensors.Select(t => t.Name);

    public bool IsFloat(string tensorName) => Model.GetInfo(tensorName).DType.IsFloat();

    public bool TryGetShape(string tensorName, out long[] shape)
    {
        bool found = Model.TryGetInfo(tensorName, out var info);
        shape = found ? info.Shape : [];
        return found;
    }

    public void ReadFloat32(string tensorName, Span<float> destination)
    {
        var info = Model.GetInfo(tensorName);
        if (destination.Length != info.ElementCount)
            throw new ArgumentException($"tensor '{tensorName}' has {info.ElementCount} elements, the destination {destination.Length}", nameof(destination));
        ReadFloat32(tensorName, 0, destination);
    }

    public void ReadFloat32(string tensorName, long elementOffset, Span<float> destination)
    {
        var info = Model.GetInfo(tensorName);
        int size = info.DType.ElementSize();
        if (info.DType == DType.F32)
        {
            Model.Read(info, elementOffset * size, MemoryMarshal.AsBytes(destination));
            return;
        }
        var staging = t_staging ??= new byte[StagingBytes];
        int chunk = StagingBytes / size;
        for (int done = 0; done < destination.Length; done += chunk)
        {
            int count = Math.Min(chunk, destination.Length - done);
            var bytes = staging.AsSpan(0, count * size);
            Model.Read(info, (elementOffset + done) * size, bytes);
            FloatConversion.ToFloat32(bytes, info.DType, destination.Slice(done, count));
        }
    }

    public float[]? ResidentFloat32(string tensorName) => null;
}
