using EvoMerge.Torch.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Tests.Runtime;

/// <summary>The hand-written single-row product against the same product in float64 (plain math, not our code).</summary>
public class ProjectionTests
{
    [Theory]
    [InlineData(ScalarType.Float32, 37, 53, false)]    // lengths that are not multiples of the vector width
    [InlineData(ScalarType.Float32, 256, 128, true)]
    [InlineData(ScalarType.BFloat16, 37, 53, true)]
    [InlineData(ScalarType.BFloat16, 512, 384, false)]
    public void SingleRowMatchesFloat64(ScalarType dtype, int rows, int columns, bool withBias)
    {
        torch.set_num_threads(2);
        torch.manual_seed(rows + columns);
        using var scope = NewDisposeScope();
        var weight = randn(rows, columns).to_type(dtype);
        var bias = withBias ? randn(rows).to_type(dtype) : null;
        var x = randn(1, 1, columns).to_type(dtype);

        Tensor actual;
        using (inference_mode()) actual = Projection.Apply(weight, bias, x);

        var expected = x.to_type(ScalarType.Float64).matmul(weight.to_type(ScalarType.Float64).t());
        if (bias is not null) expected = expected + bias.to_type(ScalarType.Float64);
        Assert.Equal(new long[] { 1, 1, rows }, actual.shape);
        Assert.Equal(dtype, actual.dtype);
        // f32: summation order only; bf16: the one rounding of the output to 8 significant bits.
        double tolerance = dtype == ScalarType.Float32 ? 1e-5 : 1.0 / 128;
        var a = actual.to_type(ScalarType.Float64).data<double>().ToArray();
        var e = expected.data<double>().ToArray();
        for (int i = 0; i < rows; i++)
            Assert.True(Math.Abs(a[i] - e[i]) <= tolerance * Math.Max(1, Math.Abs(e[i])), $"row {i}: {a[i]} vs {e[i]}");
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    public void SeveralProjectionsOfOneRowInOnePassMatchFloat64AndEachAlone(ScalarType dtype)
    {
        // q/k/v-shaped: different row counts (GQA), one with a bias, rows not a multiple of the split.
        torch.set_num_threads(2);
        torch.manual_seed(9);
        using var scope = NewDisposeScope();
        var layers = new[] { (Rows: 96, Bias: false), (Rows: 37, Bias: true), (Rows: 37, Bias: false) }
            .Select(l => nn.Linear(64, l.Rows, hasBias: l.Bias, dtype: dtype)).ToArray();
        var x = randn(1, 1, 64).to_type(dtype);
        Tensor[] together, alone;
        using (inference_mode())
        {
            together = Projection.Apply(layers, x);
            alone = layers.Select(l => Projection.Apply(l, x)).ToArray();
        }
        double tolerance = dtype == ScalarType.Float32 ? 1e-5 : 1.0 / 128;
        for (int i = 0; i < layers.Length; i++)
        {
            Assert.Equal(new long[] { 1, 1, layers[i].weight!.shape[0] }, together[i].shape);
            Assert.True((together[i] == alone[i]).all().item<bool>(), $"projection {i} differs from its own single pass");
            var expected = x.to_type(ScalarType.Float64).matmul(layers[i].weight!.to_type(ScalarType.Float64).t());
            if (layers[i].bias is { } b) expected = expected + b.to_type(ScalarType.Float64);
            var a = together[i].to_type(ScalarType.Float64).data<double>().ToArray();
            var e = expected.data<double>().ToArray();
            for (int r = 0; r < a.Length; r++)
                Assert.True(Math.Abs(a[r] - e[r]) <= tolerance * Math.Max(1, Math.Abs(e[r])), $"projection {i} row {r}: {a[r]} vs {e[r]}");
        }
    }

    [Fact]
    public void WithAutogradItIsLibtorchsLinearSoGradientsFlow()
    {
        using var scope = NewDisposeScope();
        var weight = randn(4, 3).requires_grad_();
        var y = Projection.Apply(weight, null, ones(1, 3));
        y.sum().backward();
        Assert.Equal(new float[] { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 }, weight.grad!.data<float>().ToArray());
    }
}
