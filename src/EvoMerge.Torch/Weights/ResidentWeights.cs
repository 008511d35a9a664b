using System.Runtime.InteropServices;
using EvoMerge.Merge;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Weights;

/// <summary>
/// The weights of a loaded model as a merge target: each <see cref="Accept"/> overwrites one parameter in place
/// (no rebuild, no disk), so an evolution loop can merge candidate after candidate into the same model.
/// float32 parameters on the CPU are written straight into their storage; other dtypes and devices go through
/// one float32 staging tensor and libtorch's conversion (bf16 rounds to nearest even).
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
        if (IsIgnored(name)) return;
        if (!parameters.TryGetValue(name, out var p))
            throw new EvoMergeException($"tensor '{name}': the model has no parameter of that name");
        if (!shape.SequenceEqual(p.shape))
            throw new EvoMergeException($"tensor '{name}': shape [{string.Join(", ", shape.ToArray())}] where the model expects [{string.Join(", ", p.shape)}]");
        if (values.Length != p.numel())
            throw new EvoMergeException($"tensor '{name}': {values.Length} values for {p.numel()} elements");

        using var noGrad = no_grad();   // grad mode is per thread in libtorch
        if (p.dtype == ScalarType.Float32 && p.device_type == TorchSharp.DeviceType.CPU && p.is_contiguous())
            MemoryMarshal.AsBytes(values).CopyTo(p.bytes);
        else
        {
            using var staging = empty(shape.ToArray(), ScalarType.Float32);
            MemoryMarshal.AsBytes(values).CopyTo(staging.bytes);
            p.copy_(staging);
        }
        lock (written) written.Add(name);
    }
}
