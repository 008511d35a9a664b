using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using EvoMerge.Merge.Methods;

namespace EvoMerge.Merge.Kernels;

/// <summary>
/// How (thinned) task vectors τₘ and their weights wₘ become the output base + λ · combined: a plain sum Σ wₘτₘ
/// (divided by Σw with <see cref="Normalize"/>, unless Σw is nearly zero, as mergekit does), or with
/// <see cref="Consensus"/> TIES' disjoint merge: each entry sums only the wₘτₘ whose sign agrees with the elected sign,
/// sign(Σₘ wₘτₘ) (TIES) or sign(Σₘ τₘ) with <see cref="ElectUnweighted"/> (SCE), ≥ 0 electing + and zeros never
/// agreeing, divided with <see cref="Normalize"/> by the weights that agreed (1 where none did).
/// </summary>
public readonly record struct CombineRule(bool Consensus, bool Normalize, float Lambda, bool ElectUnweighted = false);

/// <summary>
/// The last step of the task-arithmetic family and SCE (<see cref="CombineRule"/>), one vectorised pass per chunk:
/// every model's value of an entry is read once and the output written once, instead of a pass per model and per
/// step. Task vectors come unweighted as one model-major chunk, <c>deltas[m · length + i]</c>, that stays in L1.
/// </summary>
public static class TaskVectorCombine
{
    /// <summary>Entries per chunk: a few models' 4 KiB slices plus base and output fit a core's 48 KiB L1 cache.</summary>
    public const int ChunkElements = 1024;

    /// <summary>output = base + λ · combine(deltas) for one chunk (deltas.Length = weights.Length · output.Length).</summary>
    public static void Chunk(ReadOnlySpan<float> deltas, ReadOnlySpan<float> weights, CombineRule rule, ReadOnlySpan<float> baseValues, Span<float> output)
    {
        int length = output.Length, models = weights.Length, i = 0;
        float weightSum = 0;
        foreach (float w in weights) weightSum += w;
        float scale = rule.Lambda / (rule.Normalize && Math.Abs(weightSum) >= 1e-8f ? weightSum : 1);
        ref float d0 = ref MemoryMarshal.GetReference(deltas);
        if (Vector512.IsHardwareAccelerated)
        {
            ref float b0 = ref MemoryMarshal.GetReference(baseValues);
            ref float o0 = ref MemoryMarshal.GetReference(output);
            var zero = Vector512<float>.Zero;
            for (; i <= length - 16; i += 16)
            {
                var sum = zero;
                for (int m = 0; m < models; m++)
                {
                    var d = Vector512.LoadUnsafe(ref d0, (nuint)(m * length + i));
                    sum += rule.ElectUnweighted ? d : d * weights[m];
                }
                Vector512<float> mixed;
                if (!rule.Consensus) mixed = sum * scale;
                else
                {
                    var positive = Vector512.GreaterThanOrEqual(sum, zero);
                    var kept = zero;
                    mixed = zero;
                    for (int m = 0; m < models; m++)
                    {
                        var wd = Vector512.LoadUnsafe(ref d0, (nuint)(m * length + i)) * weights[m];
                        var agree = Vector512.ConditionalSelect(positive, Vector512.GreaterThan(wd, zero), Vector512.LessThan(wd, zero));
                        mixed += Vector512.ConditionalSelect(agree, wd, zero);
                        kept += Vector512.ConditionalSelect(agree, Vector512.Create(weights[m]), zero);
                    }
                    if (rule.Normalize) mixed /= Vector512.ConditionalSelect(Vector512.Equals(kept, zero), Vector512<float>.One, kept);
                    if (rule.Lambda != 1) mixed *= rule.Lambda;
                }
                (mixed + Vector512.LoadUnsafe(ref b0, (nuint)i)).StoreUnsafe(ref o0, (nuint)i);
            }
        }
        for (; i < length; i++)
        {
            float sum = 0;
            for (int m = 0; m < models; m++) sum += rule.ElectUnweighted ? deltas[m * length + i] : deltas[m * length + i] * weights[m];
            float mixed;
            if (!rule.Consensus) mixed = sum * scale;
            else
            {
                float kept = 0;
                mixed = 0;
                for (int m = 0; m < models; m++)
                {
                    float wd = deltas[m * length + i] * weights[m];
                    if (sum >= 0 ? wd > 0 : wd < 0) { mixed += wd; kept += weights[m]; }
                }
                if (rule.Normalize) mixed /= kept == 0 ? 1 : kept;
                if (rule.Lambda != 1) mixed *= rule.Lambda;
            }
            output[i] = mixed + baseValues[i];
        }
    }

    /// <summary>
    /// The same for task vectors held whole in scratch slots 1..models (methods that thin a tensor as a whole):
    /// chunk by chunk, each model's slice is copied into the contiguous chunk buffer (slot models + 1) first.
    /// </summary>
    public static void FromSlots(TensorMergeContext input, ReadOnlySpan<float> weights, CombineRule rule, Span<float> output)
    {
        int n = input.Length, models = input.ModelCount;
        var chunk = input.Scratch(models + 1, models * Math.Min(n, ChunkElements));
        for (int start = 0; start < n; start += ChunkElements)
        {
            int length = Math.Min(ChunkElements, n - start);
            for (int m = 0; m < models; m++) input.Scratch(m + 1, n).Slice(start, length).CopyTo(chunk.Slice(m * length, length));
            Chunk(chunk[..(models * length)], weights, rule, input.Base.Slice(start, length), output.Slice(start, length));
        }
    }
}
