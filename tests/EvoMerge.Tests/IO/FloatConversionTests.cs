using System.Runtime.InteropServices;
using EvoMerge.IO;

namespace EvoMerge.Tests.IO;

public class FloatConversionTests
{
    /// <summary>Values worked out by hand from the bit layouts (OCP 8-bit float specification; E4M3 is the "fn" variant).</summary>
    [Theory]
    [InlineData(DType.F8_E4M3, 0x38, 1.0)]          // exponent 7 - bias 7
    [InlineData(DType.F8_E4M3, 0x7E, 448.0)]        // 1.75 × 2^8, the largest finite
    [InlineData(DType.F8_E4M3, 0x01, 0.001953125)]  // subnormal 1/8 × 2^-6 = 2^-9
    [InlineData(DType.F8_E4M3, 0xC4, -3.0)]         // -1.5 × 2^1
    [InlineData(DType.F8_E4M3, 0x7F, double.NaN)]
    [InlineData(DType.F8_E5M2, 0x3C, 1.0)]
    [InlineData(DType.F8_E5M2, 0x7B, 57344.0)]      // 1.75 × 2^15
    [InlineData(DType.F8_E5M2, 0x01, 1.52587890625e-05)] // 1/4 × 2^-14 = 2^-16
    [InlineData(DType.F8_E5M2, 0x7C, double.PositiveInfinity)]
    [InlineData(DType.F8_E5M2, 0xFC, double.NegativeInfinity)]
    [InlineData(DType.F8_E5M2, 0x7D, double.NaN)]
    [InlineData(DType.F16, 0x3C00, 1.0)]
    [InlineData(DType.BF16, 0x3F80, 1.0)]
    [InlineData(DType.BF16, 0xC049, -3.140625)]     // -(1 + 73/128) × 2
    public void Decodes_hand_computed_values(DType dtype, int bits, double expected)
    {
        var bytes = BitConverter.GetBytes((ushort)bits).AsSpan(0, dtype.ElementSize());
        var value = new float[1];
        FloatConversion.ToFloat32(bytes, dtype, value);
        Assert.Equal((float)expected, value[0]);
    }

    [Fact]
    public void Negative_zero_keeps_its_sign_in_every_float_type()
    {
        foreach (var (dtype, bits) in new[] { (DType.F8_E4M3, 0x80), (DType.F8_E5M2, 0x80), (DType.BF16, 0x8000), (DType.F16, 0x8000) })
        {
            var value = new float[1];
            FloatConversion.ToFloat32(BitConverter.GetBytes((ushort)bits).AsSpan(0, dtype.ElementSize()), dtype, value);
            Assert.True(float.IsNegative(value[0]) && value[0] == 0, dtype.ToString());
        }
    }

    /// <summary>Ties go to the even neighbour; a value past the largest bf16 rounds to infinity; NaN stays NaN.</summary>
    [Theory]
    [InlineData(0x3F808000u, (ushort)0x3F80)] // 1 + 2^-8: halfway, 0x3F80 is even
    [InlineData(0x3F818000u, (ushort)0x3F82)] // halfway above the odd 0x3F81: up to even
    [InlineData(0x3F808001u, (ushort)0x3F81)] // just above halfway
    [InlineData(0x7F7FFFFFu, (ushort)0x7F80)] // float max → +inf
    [InlineData(0xFFC00001u, (ushort)0x7FC0)] // NaN with payload → quiet NaN
    [InlineData(0x7F800001u, (ushort)0x7FC0)] // signalling NaN must not round to infinity
    public void Rounds_to_bfloat16_nearest_even(uint input, ushort expected) =>
        Assert.Equal(expected, FloatConversion.RoundToBFloat16(BitConverter.UInt32BitsToSingle(input)));

    /// <summary>The vector path and the scalar tail give the same bits for every length and alignment.</summary>
    [Fact]
    public void Vector_and_scalar_paths_agree()
    {
        float[] probes = TorchInteropTests.RoundingProbes();
        var expected = probes.Select(FloatConversion.RoundToBFloat16).ToArray();
        foreach (int length in new[] { 1, 7, 15, 16, 17, 31, 33, 100, probes.Length - 3 })
        {
            var output = new ushort[length];
            FloatConversion.Float32ToBFloat16(probes.AsSpan(3, length), output);
            Assert.Equal(expected.AsSpan(3, length).ToArray(), output);

            var back = new float[length];
            FloatConversion.BFloat16ToFloat32(output, back);
            for (int i = 0; i < length; i++) Assert.Equal((uint)output[i] << 16, BitConverter.SingleToUInt32Bits(back[i]));
        }
    }

    [Theory]
    [InlineData(DType.F32)]
    [InlineData(DType.F64)]
    [InlineData(DType.BF16)]
    [InlineData(DType.F16)]
    public void Values_representable_in_the_target_survive_a_round_trip(DType dtype)
    {
        float[] values = [0f, -0f, 1f, -2.5f, 0.125f, 1024f, float.PositiveInfinity, float.NegativeInfinity];
        var bytes = new byte[values.Length * dtype.ElementSize()];
        FloatConversion.FromFloat32(values, dtype, bytes);
        var back = new float[values.Length];
        FloatConversion.ToFloat32(bytes, dtype, back);
        Assert.Equal(MemoryMarshal.Cast<float, uint>(values).ToArray(), MemoryMarshal.Cast<float, uint>(back).ToArray());
    }

    [Fact]
    public void Integer_types_and_f8_targets_are_refused()
    {
        Assert.Throws<EvoMergeException>(() => FloatConversion.ToFloat32(new byte[4], DType.I32, new float[1]));
        Assert.Throws<EvoMergeException>(() => FloatConversion.FromFloat32(new float[1], DType.F8_E4M3, new byte[1]));
    }

    [Fact]
    public void Mismatched_lengths_are_refused() =>
        Assert.Throws<ArgumentException>(() => FloatConversion.ToFloat32(new byte[6], DType.BF16, new float[2]));
}
