using EvoMerge.Merge.Kernels;

namespace EvoMerge.Merge.Methods;

/// <summary>
/// Task vectors held whole, one per model in scratch slots 1..models, for methods that rank or select over a whole
/// tensor before combining (TIES, Breadcrumbs, DELLA, mergekit-mode DARE, SCE). Slot models + 1 is the chunk buffer
/// of <see cref="Combine"/>; slot 0 and slots above models + 1 are the method's own.
/// </summary>
static class WholeTaskVectors
{
    /// <summary>Model <paramref name="model"/>'s task vector (the whole tensor).</summary>
    public static Span<float> Of(TensorMergeContext input, int model) => input.Scratch(model + 1, input.Length);

    /// <summary>
    /// output = base + λ · combine(task vectors), chunk by chunk: each model's slice is copied into the contiguous
    /// chunk buffer <see cref="TaskVectorCombine.Chunk(ReadOnlySpan{float}, ReadOnlySpan{float}, CombineRule, ReadOnlySpan{float}, Span{float})"/> reads.
    /// </summary>
    public static void Combine(TensorMergeContext input, ReadOnlySpan<float> weights, CombineRule rule, Span<float> output)
    {
        int n = input.Length, models = input.ModelCount;
        var chunk = input.Scratch(models + 1, models * Math.Min(n, TaskVectorCombine.ChunkElements));
        for (int start = 0; start < n; start += TaskVectorCombine.ChunkElements)
        {
            int length = Math.Min(TaskVectorCombine.ChunkElements, n - start);
            for (int m = 0; m < models; m++) Of(input, m).Slice(start, length).CopyTo(chunk.Slice(m * length, length));
            TaskVectorCombine.Chunk(chunk[..(models * length)], weights, rule, input.Base.Slice(start, length), output.Slice(start, length));
        }
    }
}
