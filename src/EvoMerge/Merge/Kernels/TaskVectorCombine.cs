using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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
/// Every tier does the scalar loop's operations in the same order per lane (products, then sums in model order, no
/// fused multiply-add), so all give the same bits.
/// </summary>
public static class TaskVectorCombine
{
    /// <summary>Entries per chunk: a few models' 4 KiB slices plus base and output fit a core's 48 KiB L1 cache.</summary>
    public const int ChunkElements = 1024;

    /// <summary>output = base + λ · combine(deltas) for one chunk (deltas.Length = weights.Length · output.Length).</summary>
    public static void Chunk(ReadOnlySpan<float> deltas, ReadOnlySpan<float> weights, CombineRule rule, ReadOnlySpan<float> baseValues, Span<float> output) =>
        Chunk(deltas, weights, rule, baseValues, output, VectorTiers.Best);

    /// <summary>The same at a chosen tier (tests run each one against <see cref="VectorTier.Scalar"/>).</summary>
    public static void Chunk(ReadOnlySpan<float> deltas, ReadOnlySpan<float> weights, CombineRule rule, ReadOnlySpan<float> baseValues,
        Span<float> output, VectorTier tier)
    {
        if (deltas.Length != weights.Length * output.Length || baseValues.Length != output.Length)
            throw new ArgumentException($"{weights.Length} models × {output.Length} entries need as many deltas (got {deltas.Length}) and {output.Length} base values (got {baseValues.Length})");
        float weightSum = 0;
        foreach (float w in weights) weightSum += w;
        float scale = rule.Lambda / (rule.Normalize && Math.Abs(weightSum) >= 1e-8f ? weightSum : 1);
        int i = tier switch
        {
            VectorTier.Vector512 => Chunk512(deltas, weights, rule, scale, baseValues, output),
            VectorTier.Vector256 => Chunk256(deltas, weights, rule, scale, baseValues, output),
            VectorTier.Vector128 => Chunk128(deltas, weights, rule, scale, baseValues, output),
            _ => 0,
        };
        int length = output.Length, models = weights.Length;
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

    // The three vector tiers are one loop written at three widths (the runtime has no public width-generic vector
    // interface); each returns how many entries it did, the rest is the scalar tail.

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static int Chunk512(ReadOnlySpan<float> deltas, ReadOnlySpan<float> weights, CombineRule rule, float scale, ReadOnlySpan<float> baseValues, Span<float> output)
    {
        int length = output.Length, models = weights.Length, i = 0;
        ref float d0 = ref MemoryMarshal.GetReference(deltas);
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
        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static int Chunk256(ReadOnlySpan<float> deltas, ReadOnlySpan<float> weights, CombineRule rule, float scale, ReadOnlySpan<float> baseValues, Span<float> output)
    {
        int length = output.Length, models = weights.Length, i = 0;
        ref float d0 = ref MemoryMarshal.GetReference(deltas);
        ref float b0 = ref MemoryMarshal.GetReference(baseValues);
        ref float o0 = ref MemoryMarshal.GetReference(output);
        var zero = Vector256<float>.Zero;
        for (; i <= length - 8; i += 8)
        {
            var sum = zero;
            for (int m = 0; m < models; m++)
            {
                var d = Vector256.LoadUnsafe(ref d0, (nuint)(m * length + i));
                sum += rule.ElectUnweighted ? d : d * weights[m];
            }
            Vector256<float> mixed;
            if (!rule.Consensus) mixed = sum * scale;
            else
            {
                var positive = Vector256.GreaterThanOrEqual(sum, zero);
                var kept = zero;
                mixed = zero;
                for (int m = 0; m < models; m++)
                {
                    var wd = Vector256.LoadUnsafe(ref d0, (nuint)(m * length + i)) * weights[m];
                    var agree = Vector256.ConditionalSelect(positive, Vector256.GreaterThan(wd, zero), Vector256.LessThan(wd, zero));
                    mixed += Vector256.ConditionalSelect(agree, wd, zero);
                    kept += Vector256.ConditionalSelect(agree, Vector256.Create(weights[m]), zero);
                }
                if (rule.Normalize) mixed /= Vector256.ConditionalSelect(Vector256.Equals(kept, zero), Vector256<float>.One, kept);
                if (rule.Lambda != 1) mixed *= rule.Lambda;
            }
            (mixed + Vector256.LoadUnsafe(ref b0, (nuint)i)).StoreUnsafe(ref o0, (nuint)i);
        }
        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static int Chunk128(ReadOnlySpan<float> deltas, ReadOnlySpan<float> weights, CombineRule rule, float scale, ReadOnlySpan<float> baseValues, Span<float> output)
    {
        int length = output.Length, models = weights.Length, i = 0;
        ref float d0 = ref MemoryMarshal.GetReference(deltas);
        ref float b0 = ref MemoryMarshal.GetReference(baseValues);
        ref float o0 = ref MemoryMarshal.GetReference(output);
        var zero = Vector128<float>.Zero;
        for (; i <= length - 4; i += 4)
        {
            var sum = zero;
            for (int m = 0; m < models; m++)
            {
                var d = Vector128.LoadUnsafe(ref d0, (nuint)(m * length + i));
                sum += rule.ElectUnweighted ? d : d * weights[m];
            }
            Vector128<float> mixed;
            if (!rule.Consensus) mixed = sum * scale;
            else
            {
                var positive = Vector128.GreaterThanOrEqual(sum, zero);
                var kept = zero;
                mixed = zero;
                for (int m = 0; m < models; m++)
                {
                    var wd = Vector128.LoadUnsafe(ref d0, (nuint)(m * length + i)) * weights[m];
                    var agree = Vector128.ConditionalSelect(positive, Vector128.GreaterThan(wd, zero), Vector128.LessThan(wd, zero));
                    mixed += Vector128.ConditionalSelect(agree, wd, zero);
                    kept += Vector128.ConditionalSelect(agree, Vector128.Create(weights[m]), zero);
                }
                if (rule.Normalize) mixed /= Vector128.ConditionalSelect(Vector128.Equals(kept, zero), Vector128<float>.One, kept);
                if (rule.Lambda != 1) mixed *= rule.Lambda;
            }
            (mixed + Vector128.LoadUnsafe(ref b0, (nuint)i)).StoreUnsafe(ref o0, (nuint)i);
        }
        return i;
    }
}
