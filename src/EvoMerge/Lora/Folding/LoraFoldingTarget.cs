using System.Buffers;
using EvoMerge.Merge;

namespace EvoMerge.Lora.Folding;

/// <summary>
/// Folds LoRAs into merged tensors on their way to the target (a recipe's <c>loras:</c> list, applied to the merge's
/// result): each tensor or row block a LoRA changes is copied, changed and handed on. A target that takes row blocks
/// stays one that takes row blocks.
/// </summary>
public static class LoraFoldingTarget
{
    public static IMergeTarget Wrap(IMergeTarget inner, LoraPatches patches) =>
        patches.IsEmpty ? inner : inner is IMergeBlockTarget blocks ? new BlockTarget(blocks, patches) : new WholeTarget(inner, patches);

    static void Fold(LoraPatches patches, string name, long offset, ReadOnlySpan<float> values, Action<ReadOnlySpan<float>> hand)
    {
        if (!patches.Changes(name)) { hand(values); return; }
        var buffer = ArrayPool<float>.Shared.Rent(values.Length);
        try
        {
            var changed = buffer.AsSpan(0, values.Length);
            values.CopyTo(changed);
            patches.Apply(name, offset, changed);
            hand(changed);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    sealed class WholeTarget(IMergeTarget inner, LoraPatches patches) : IMergeTarget
    {
        public void Accept(string name, ReadOnlySpan<long> shape, ReadOnlySpan<float> values)
        {
            var s = shape.ToArray();
            Fold(patches, name, 0, values, v => inner.Accept(name, s, v));
        }
    }

    sealed class BlockTarget(IMergeBlockTarget inner, LoraPatches patches) : IMergeBlockTarget
    {
        public void Accept(string name, ReadOnlySpan<long> shape, ReadOnlySpan<float> values)
        {
            var s = shape.ToArray();
            Fold(patches, name, 0, values, v => inner.Accept(name, s, v));
        }

        public void AcceptBlock(string name, ReadOnlySpan<long> shape, long elementOffset, ReadOnlySpan<float> values)
        {
            var s = shape.ToArray();
            Fold(patches, name, elementOffset, values, v => inner.AcceptBlock(name, s, elementOffset, v));
        }
    }
}
