using EvoMerge.IO;
using EvoMerge.Merge.Kernels;

namespace EvoMerge.Tests.Kernels;

/// <summary>
/// Every vector tier of every hot kernel gives the scalar definition's bits, on lengths around the vector widths and
/// on values that exercise the branches (zeros of both signs, ties, negative weights, 64-bit counters). Each tier is
/// called explicitly, so widths the CPU lacks run in the runtime's software fallback; <see cref="KernelIsaLevelTests"/>
/// runs this class again with AVX-512, AVX2 and all intrinsics switched off, where the dispatch picks narrower tiers.
/// </summary>
public class KernelTierTests
{
    public static TheoryData<VectorTier> VectorTiers_ => [VectorTier.Vector128, VectorTier.Vector256, VectorTier.Vector512];

    static readonly int[] Lengths = [0, 1, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 47, 100, 1024, 4099];

    [Theory]
    [MemberData(nameof(VectorTiers_))]
    public void Dare_mask_tier_matches_scalar(VectorTier tier)
    {
        var random = new Random(1);
        int kept = 0, dropped = 0;
        foreach (int n in Lengths)
            foreach (long offset in new[] { 0L, 5, (1L << 33) + 3 })
                foreach (float p in new[] { 0f, 0.1f, 0.5f, 0.9f, 1f })
                {
                    var values = RandomValues(random, n);
                    var scalar = values.ToArray();
                    var vector = values.ToArray();
                    ulong key = (ulong)random.NextInt64();
                    float scale = p == 0 ? 1 : 1 / p;
                    TensorRandom.KeepWithProbability(scalar, p, scale, key, offset, VectorTier.Scalar);
                    TensorRandom.KeepWithProbability(vector, p, scale, key, offset, tier);
                    AssertSameBits(scalar, vector, $"n {n}, offset {offset}, p {p}");
                    kept += scalar.Count(v => v != 0);
                    dropped += scalar.Count(v => v == 0);
                }
        Assert.True(kept > 1000 && dropped > 1000, $"the mask should both keep and drop entries: kept {kept}, dropped {dropped}");
    }

    [Fact]
    public void Dare_mask_is_the_documented_stream_at_every_offset()
    {
        // The scalar tier is Uniform(key, offset + i) < p, so a block starting mid-tensor sees the whole tensor's draws.
        var whole = Enumerable.Repeat(1f, 100).ToArray();
        TensorRandom.KeepWithProbability(whole, 0.5f, 1, 42, 0, VectorTiers.Best);
        var tail = Enumerable.Repeat(1f, 63).ToArray();
        TensorRandom.KeepWithProbability(tail, 0.5f, 1, 42, 37, VectorTiers.Best);
        AssertSameBits(whole[37..], tail, "block at offset 37");
        for (int i = 0; i < whole.Length; i++) Assert.Equal(TensorRandom.Uniform(42, i) < 0.5f ? 1f : 0f, whole[i]);
    }

    public static TheoryData<VectorTier, bool, bool, float, bool> CombineCases()
    {
        var data = new TheoryData<VectorTier, bool, bool, float, bool>();
        foreach (var tier in new[] { VectorTier.Vector128, VectorTier.Vector256, VectorTier.Vector512 })
            foreach (bool consensus in new[] { false, true })
                foreach (bool normalize in new[] { false, true })
                    foreach (float lambda in new[] { 1f, 0.7f })
                        data.Add(tier, consensus, normalize, lambda, false);
        foreach (var tier in new[] { VectorTier.Vector128, VectorTier.Vector256, VectorTier.Vector512 })
            data.Add(tier, true, true, 1f, true);
        return data;
    }

    [Theory]
    [MemberData(nameof(CombineCases))]
    public void Task_vector_combine_tier_matches_scalar(VectorTier tier, bool consensus, bool normalize, float lambda, bool electUnweighted)
    {
        var random = new Random(2);
        var rule = new CombineRule(consensus, normalize, lambda, electUnweighted);
        foreach (int models in new[] { 1, 2, 3, 5 })
            foreach (int n in Lengths)
            {
                var weights = Enumerable.Range(0, models).Select(m => m == 2 ? 0f : m == 3 ? -0.4f : (float)random.NextDouble() + 0.1f).ToArray();
                var deltas = RandomValues(random, models * n);
                var baseValues = RandomValues(random, n);
                var scalar = new float[n];
                var vector = new float[n];
                TaskVectorCombine.Chunk(deltas, weights, rule, baseValues, scalar, VectorTier.Scalar);
                TaskVectorCombine.Chunk(deltas, weights, rule, baseValues, vector, tier);
                AssertSameBits(scalar, vector, $"{models} models, n {n}");
            }
    }

    [Theory]
    [MemberData(nameof(VectorTiers_))]
    public void Dot_product_tiers_match_scalar(VectorTier tier)
    {
        var random = new Random(3);
        foreach (int n in Lengths.Append(48).Append(4096 + 5))
            for (int repeat = 0; repeat < 3; repeat++)
            {
                var x = RandomValues(random, n);
                var w = RandomValues(random, n);
                var bf16 = w.Select(v => FloatConversion.RoundToBFloat16(v)).ToArray();
                Assert.Equal(Bits(DotProduct.Float32(w, x, VectorTier.Scalar)), Bits(DotProduct.Float32(w, x, tier)));
                Assert.Equal(Bits(DotProduct.BFloat16(bf16, x, VectorTier.Scalar)), Bits(DotProduct.BFloat16(bf16, x, tier)));
            }
    }

    [Fact]
    public void Dot_product_scalar_definition_is_the_float64_sum_to_float_precision()
    {
        var random = new Random(4);
        foreach (int n in new[] { 1, 17, 1000, 4101 })
        {
            var x = Enumerable.Range(0, n).Select(_ => (float)random.NextDouble()).ToArray();
            var w = Enumerable.Range(0, n).Select(_ => (float)random.NextDouble()).ToArray();
            var bf16 = w.Select(v => FloatConversion.RoundToBFloat16(v)).ToArray();
            double f32 = 0, b16 = 0;
            for (int i = 0; i < n; i++)
            {
                f32 += (double)w[i] * x[i];
                b16 += (double)BitConverter.Int32BitsToSingle(bf16[i] << 16) * x[i];
            }
            // Positive terms: relative error of a float32 sum of n terms is below n·2⁻²⁴ and far below in practice.
            Assert.Equal(f32, DotProduct.Float32(w, x, VectorTier.Scalar), f32 * 1e-5);
            Assert.Equal(b16, DotProduct.BFloat16(bf16, x, VectorTier.Scalar), b16 * 1e-5);
        }
    }

    [Fact]
    public void Dispatch_runs_the_widest_accelerated_tier()
    {
        // Under KernelIsaLevelTests the parent names the widest tier its switches leave.
        string? atMost = Environment.GetEnvironmentVariable(KernelIsaLevelTests.TierVariable);
        if (atMost != null) Assert.True((int)VectorTiers.Best <= int.Parse(atMost), $"best tier {VectorTiers.Best} with {atMost} expected at most");
        var random = new Random(5);
        var x = RandomValues(random, 1000);
        var w = RandomValues(random, 1000);
        Assert.Equal(Bits(DotProduct.Float32(w, x, VectorTier.Scalar)), Bits(DotProduct.Float32(w, x)));
        var mask = RandomValues(random, 1000);
        var expected = mask.ToArray();
        TensorRandom.KeepWithProbability(expected, 0.3f, 1 / 0.3f, 9, 11, VectorTier.Scalar);
        TensorRandom.KeepWithProbability(mask, 0.3f, 1 / 0.3f, 9, 11);
        AssertSameBits(expected, mask, "dispatched mask");
        var deltas = RandomValues(random, 3 * 1000);
        var baseValues = RandomValues(random, 1000);
        float[] weights = [0.5f, -0.2f, 0.9f];
        var rule = new CombineRule(Consensus: true, Normalize: true, Lambda: 1.1f);
        var scalar = new float[1000];
        var dispatched = new float[1000];
        TaskVectorCombine.Chunk(deltas, weights, rule, baseValues, scalar, VectorTier.Scalar);
        TaskVectorCombine.Chunk(deltas, weights, rule, baseValues, dispatched);
        AssertSameBits(scalar, dispatched, "dispatched combine");
    }

    /// <summary>Random values with exact zeros of both signs and repeated magnitudes sprinkled in (sign-election ties).</summary>
    static float[] RandomValues(Random random, int n)
    {
        var values = new float[n];
        for (int i = 0; i < n; i++)
            values[i] = (i % 11) switch
            {
                3 => 0f,
                7 => -0f,
                9 => -values[i - 1],
                _ => (float)(random.NextDouble() - 0.5) * MathF.Pow(10, random.Next(-3, 3)),
            };
        return values;
    }

    static int Bits(float value) => BitConverter.SingleToInt32Bits(value);

    static void AssertSameBits(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (Bits(expected[i]) != Bits(actual[i]))
                Assert.Fail($"{what}: entry {i} is {actual[i]:R} (0x{Bits(actual[i]):X8}), scalar gives {expected[i]:R} (0x{Bits(expected[i]):X8})");
    }
}
