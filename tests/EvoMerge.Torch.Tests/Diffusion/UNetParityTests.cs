using System.Text.Json;
using EvoMerge.TestSupport;
using EvoMerge.Torch.Diffusion.Pipeline;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Tests.Diffusion;

/// <summary>
/// The UNet and text encoder forward against <c>unet_reference.py</c>, an independent float64 PyTorch implementation
/// written from the architecture that reads the saved pipeline folder by hand: so names, shapes, skip order and every
/// block's arithmetic are checked at once.
/// </summary>
public sealed class UNetParityTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("unet-parity-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [PythonReferenceFact("torch")]
    public void ForwardMatchesTheFloat64Reference()
    {
        using var pipeline = RandomPipeline.Create(seed: 5);
        string folder = Path.Combine(dir, "pipe");
        pipeline.Save(folder, _ => { });

        var loaded = pipeline;
        string[] prompts = ["abc", "hello"];
        int[] timesteps = [999, 17];
        random.manual_seed(11);
        using var sample = randn(2, 3, 8, 8);
        using var ids = loaded.TokenIds(prompts);
        float[] context, epsilon;
        using (no_grad())
        {
            using var c = loaded.TextEncoder.Forward(ids);
            using var e = loaded.Unet.Forward(sample, tensor(timesteps.Select(t => (long)t).ToArray()), c);
            context = c.data<float>().ToArray();
            epsilon = e.data<float>().ToArray();
        }

        string samplePath = Path.Combine(dir, "sample.f32"), casePath = Path.Combine(dir, "case.json"), outPath = Path.Combine(dir, "out.f64");
        File.WriteAllBytes(samplePath, sample.bytes.ToArray());
        var idRows = Enumerable.Range(0, 2).Select(i => ids[i].data<long>().ToArray()).ToArray();
        File.WriteAllText(casePath, JsonSerializer.Serialize(new { ids = idRows, sample = samplePath, timesteps }));
        string script = Path.Combine(AppContext.BaseDirectory, "Reference", "unet_reference.py");
        var (code, _, stderr) = PythonReference.Run($"\"{script}\" \"{folder}\" \"{casePath}\" \"{outPath}\"", TimeSpan.FromMinutes(2));
        Assert.True(code == 0, "unet_reference.py failed: " + stderr);
        var reference = new double[context.Length + epsilon.Length];
        Buffer.BlockCopy(File.ReadAllBytes(outPath), 0, reference, 0, reference.Length * 8);

        AssertClose(reference.AsSpan(0, context.Length), context, "text states");
        AssertClose(reference.AsSpan(context.Length), epsilon, "UNet output");
        Assert.True(epsilon.Select(Math.Abs).Max() > 0.1, "the random UNet's output should not be near zero");
    }

    static void AssertClose(ReadOnlySpan<double> expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0, scale = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
            scale = Math.Max(scale, Math.Abs(expected[i]));
        }
        Assert.True(worst <= 1e-4 * Math.Max(1, scale), $"{what}: largest difference {worst:G3} (largest value {scale:G3})");
    }
}
