using System.Runtime.InteropServices;
using System.Buffers;
using EvoMerge.IO;
using EvoMerge.Merge;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Weights;

/// <summary>
/// The weights of a loaded model as a merge target: each <see cref="Accept"/> overwrites one parameter in place
/// (no rebuild, no disk), so an evolution loop can merge candidate after candidate into the same model.
/// On the CPU, values are written straight into the parameter's storage (bf16 rounded to nearest even by
/// <see cref="FloatConversion"/>); other devices go through one float32 staging tensor.
/// Safe to call from several threads at once for different names.
/// </summary>
public sealed class ResidentWeights : IMergeTarget
{
    readonly Dictionary<string, Parameter> parameters;
    readonly HashSet<string> written = new();
    readonly bool tiedHead;

    public ResidentWeights(nn.Module model, bool tiedHead)
    {
        parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        this.tiedHead = tiedHead;
    }

    /// <summary>Every parameter name of the model.</summary>
    public IReadOnlyCollection<string> Names => parameters.Keys;

    /// <summary>Parameters not written since construction or the last <see cref="ResetWritten"/>.</summary>
    public IReadOnlyList<string> Unwritten()
    {
        lock (written) return parameters.Keys.Where(n => !written.Contains(n)).ToList();
    }

    public void ResetWritten()
    {
        lock (written) written.Clear();
    }

    /// <summary>Whether a tensor of a checkpoint has no place in the model and is skipped by design.</summary>
    public bool IsIgnored(string name) =>
        name.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal)          // old checkpoints store RoPE tables
        || (tiedHead && name == "lm_head.weight");                                // some tied checkpoints repeat the embeddings

    public void Accept(string name, ReadOnlySpan<long> shape, ReadOnlySpan<float> values)
    {
        var p = Find(name, shape);
        if (p is null) return;
        if (values.Length != p.numel())
            throw new EvoMergeException($"tensor '{name}': {values.Length} values for {p.numel()} elements");

        using var noGrad = no_grad();   // grad mode is per thread in libtorch
        if (DirectlyWritable(p) is DType stored)
            FloatConversion.FromFloat32(values, stored, p.bytes);
        else
        {
            using var staging = empty(shape.ToArray(), ScalarType.Float32);
            MemoryMarshal.AsBytes(values).CopyTo(staging.bytes);
            p.copy_(staging);
        }
        lock (written) written.Add(name);
    }

    /// <summary>Overwrites every parameter from a safetensors model; fails naming the parameters it lacks.</summary>
    public void CopyFrom(SafetensorsModel weights, IProgress<double>? progress = null)
    {
        ResetWritten();
        long done = 0, total = Math.Max(1, weights.TotalBytes);
        foreach (var t in weights.Tensors)
        {
            AcceptStored(t.Name, t.Shape, t.DType, weights.GetBytes(t.Name));
            progress?.Report((double)(done += t.ByteLength) / total);
        }
        var missing = Unwritten();
        if (missing.Count > 0)
            throw new EvoMergeException($"{weights.Files[0].Path}: missing tensor(s) {string.Join(", ", missing.Take(5))}{(missing.Count > 5 ? ", ..." : "")}");
    }

    /// <summary>The parameter a tensor goes to, null when it is skipped by design.</summary>
    Parameter? Find(string name, ReadOnlySpan<long> shape)
    {
        if (IsIgnored(name)) return null;
        if (!parameters.TryGetValue(name, out var p))
            throw new EvoMergeException($"tensor '{name}': the model has no parameter of that name");
        if (!shape.SequenceEqual(p.shape))
            throw new EvoMergeException($"tensor '{name}': shape [{string.Join(", ", shape.ToArray())}] where the model expects [{string.Join(", ", p.shape)}]");
        return p;
    }

    /// <summary>
    /// Writes a tensor as stored in a file (safetensors bytes of <paramref name="dtype"/>): a plain copy when the
    /// parameter has that dtype, else a conversion through float32 in chunks.
    /// </summary>
    public void AcceptStored(string name, ReadOnlySpan<long> shape, DType dtype, ReadOnlySpan<byte> bytes)
    {
        var p = Find(name, shape);
        if (p is null) return;
        if (DirectlyWritable(p) == dtype)
        {
            bytes.CopyTo(p.bytes);
            lock (written) written.Add(name);
            return;
        }
        if (!dtype.IsFloat()) throw new EvoMergeException($"tensor '{name}': dtype {dtype} where the model needs floats");
        int count = bytes.Length / dtype.ElementSize();
        float[] buffer = ArrayPool<float>.Shared.Rent(count);
        try
        {
            FloatConversion.ToFloat32(bytes, dtype, buffer.AsSpan(0, count));
            Accept(name, shape, buffer.AsSpan(0, count));
        }
        finally { ArrayPool<float>.Shared.Return(buffer); }
    }

    /// <summary>The file dtype a parameter's storage can take byte for byte, or null (GPU, other dtypes).</summary>
    static DType? DirectlyWritable(Parameter p)
    {
        if (p.device_type != TorchSharp.DeviceType.CPU || !p.is_contiguous()) return null;
        return p.dtype switch { ScalarType.Float32 => DType.F32, ScalarType.BFloat16 => DType.BF16, _ => null };
    }
}
