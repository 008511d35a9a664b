using EvoMerge.Merge.Execution;

namespace EvoMerge.Lora.Folding;

/// <summary>
/// A source model with LoRAs folded in as its tensors are read (mergekit's <c>model+lora</c>): the inner source's
/// values plus each patch's change, range by range, so the merge never holds a folded copy and the files are never
/// written. Tensors no LoRA touches pass straight through (resident ones included).
/// </summary>
public sealed class LoraFoldedWeights(IWeightSource inner, LoraPatches patches) : IWeightSource
{
    public string Label => inner.Label;

    public IEnumerable<string> TensorNames => inner.TensorNames;

    public bool TryGetShape(string tensorName, out long[] shape) => inner.TryGetShape(tensorName, out shape);

    public void ReadFloat32(string tensorName, Span<float> destination)
    {
        inner.ReadFloat32(tensorName, destination);
        patches.Apply(tensorName, 0, destination);
    }

    public void ReadFloat32(string tensorName, long elementOffset, Span<float> destination)
    {
        inner.ReadFloat32(tensorName, elementOffset, destination);
        patches.Apply(tensorName, elementOffset, destination);
    }

    public float[]? ResidentFloat32(string tensorName) => patches.Changes(tensorName) ? null : inner.ResidentFloat32(tensorName);

    public bool IsFloat(string tensorName) => inner.IsFloat(tensorName);
}
