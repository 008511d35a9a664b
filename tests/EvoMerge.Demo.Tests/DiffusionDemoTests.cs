using System.Text.Json;
using EvoMerge.Demo.Diffusion;
using EvoMerge.TestSupport;
using EvoMerge.Torch.Diffusion.Scheduling;
using EvoMerge.Torch.Tests.Cli;
using static TorchSharp.torch;
using DiffusionPipeline = EvoMerge.Torch.Diffusion.Pipeline.DiffusionPipeline;

namespace EvoMerge.Demo.Tests;

/// <summary>
/// The diffusion demo's merge genome (groups from the core's diffusion anatomy, checked against the block numbering
/// written out by hand for the demo's UNet) and <c>evomerge demo diffusion --quick --json</c> once on the shipped
/// models. Which merge wins is not asserted here: that is the full demo's claim over several worlds (docs/demo-diffusion.md).
/// </summary>
public sealed class DiffusionDemoTests : IDisposable
{
    readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("evomerge-diffusion-demo");

    public void Dispose() => folder.Delete(recursive: true);

    static DiffusionPipeline RandomPipeline(int seed)
    {
        random.manual_seed(seed);
        var tokenizer = new CharacterTokenizer();
        return DiffusionPipeline.Create(DiffusionDemoTrainer.Unet, DiffusionDemoTrainer.Text(tokenizer.VocabSize), new NoiseSchedule(), tokenizer);
    }

    [Fact]
    public void MixerGroupsAreTheUnetBlocksSplitIntoAttentionAndConv()
    {
        using var b = RandomPipeline(3);
        using var j = RandomPipeline(1);
        using var l = RandomPipeline(2);
        using var mixer = new PipelineMixer(b, j, l);
        // Two down blocks of one resnet (the second with attention): IN00 conv_in + time embedding, IN01 resnet,
        // IN02 downsampler, IN03 resnet + attention; the middle block; two up blocks of two resnets (the first with
        // attention), the upsampler with OUT01, conv_out with OUT03.
        // Within a block, attention comes first (TensorPart's order).
        Assert.Equal(["IN00 conv", "IN01 conv", "IN02 conv", "IN03 attn", "IN03 conv", "M00 attn", "M00 conv",
            "OUT00 attn", "OUT00 conv", "OUT01 attn", "OUT01 conv", "OUT02 conv", "OUT03 conv"], mixer.Groups);

        var groups = mixer.Groups.ToList();
        var (jScales, lScales) = (new double[groups.Count], new double[groups.Count]);
        (jScales[groups.IndexOf("OUT01 attn")], lScales[groups.IndexOf("OUT01 attn")]) = (1, 1);
        (jScales[groups.IndexOf("IN00 conv")], lScales[groups.IndexOf("IN00 conv")]) = (0.25, 1.5);
        mixer.Mix(jScales, lScales, textJ: 0.5, textL: 2);
        static Dictionary<string, Tensor> Weights(nn.Module m) => m.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        var (target, fromB, fromJ, fromL) = (Weights(mixer.Target.Unet), Weights(b.Unet), Weights(j.Unet), Weights(l.Unet));
        // base + a·(J − base) + c·(L − base), written out as the weights of the three: (1 − a − c)·base + a·J + c·L.
        void Expect(string name, double a, double c) =>
            Assert.True(allclose(target[name], fromB[name] * (1 - a - c) + fromJ[name] * a + fromL[name] * c, rtol: 1e-5, atol: 1e-5),
                $"{name}: expected scales {a} and {c}");
        Expect("up_blocks.0.attentions.1.transformer_blocks.0.attn2.to_k.weight", 1, 1);
        Expect("up_blocks.0.attentions.1.transformer_blocks.0.attn1.to_out.0.bias", 1, 1);
        Expect("up_blocks.0.attentions.1.transformer_blocks.0.ff.net.2.weight", 0, 0);   // conv part of the same block: the base
        Expect("up_blocks.0.upsamplers.0.conv.weight", 0, 0);
        Expect("conv_in.weight", 0.25, 1.5);
        Expect("time_embedding.linear_2.weight", 0.25, 1.5);
        Expect("down_blocks.0.resnets.0.conv1.weight", 0, 0);
        var (text, textB, textJ, textL) = (Weights(mixer.Target.TextEncoder), Weights(b.TextEncoder), Weights(j.TextEncoder), Weights(l.TextEncoder));
        var first = text.Keys.First();
        Assert.True(allclose(text[first], -1.5 * textB[first] + 0.5 * textJ[first] + 2 * textL[first], rtol: 1e-5, atol: 1e-5), "text encoder at 0.5 and 2");

        // The plain linear merge is the special case a = 1 − w, c = w.
        mixer.Linear(0.25);
        Assert.True(allclose(Weights(mixer.Target.Unet)["conv_in.weight"], 0.75 * fromJ["conv_in.weight"] + 0.25 * fromL["conv_in.weight"], rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void QuickDiffusionDemoWritesSummaryReportAndEveryRow()
    {
        string models = Path.Combine(SharedData.RepoRoot, "demo", "models", "diffusion"), output = Path.Combine(folder.FullName, "run");
        var (code, stdout, stderr) = CliProcess.Run("demo", "diffusion", "--quick", "--json", "--models", models, "--out", output);
        Assert.True(code == 0, stderr);
        var summary = JsonSerializer.Deserialize<DiffusionSummary>(stdout)!;
        Assert.Equal(summary.ToJson(), JsonSerializer.Deserialize<DiffusionSummary>(File.ReadAllText(Path.Combine(output, DiffusionSummary.FileName)))!.ToJson());
        Assert.Equal(["J@4", "L@4", "J@50", "L@4-en", "average", "J+ΔL", "evolved-ps", "evolved-ps-te-j"], summary.Rows.Select(r => r.Name));
        Assert.All(summary.Rows, r => Assert.InRange(r.Fidelity, 0, 1));
        Assert.All(summary.Rows, r => Assert.Equal(summary.TestPrompts.Count, r.PerPrompt!.Count));
        // The judge reads most real pictures of the test prompts right (it never saw these exact pictures; chance is 1/72).
        Assert.True(summary.RealFidelity > 0.5, $"judge on real pictures: {summary.RealFidelity:F3}");
        // evolved-ps-te-j keeps J's text encoder: its weights have no text_encoder gene; evolved-ps has one.
        Assert.DoesNotContain("text_encoder ΔJ", summary["evolved-ps-te-j"].Weights!.Keys);
        Assert.Contains("text_encoder ΔJ", summary["evolved-ps"].Weights!.Keys);
        Assert.Equal(2 * 13 + 1, summary["evolved-ps"].Weights!.Count);   // J's and L's scale per group, and the text encoder's
        Assert.All(summary.Differences, d => Assert.InRange(d.Mean, d.Low, d.High));
        string html = File.ReadAllText(summary.Report);
        Assert.Equal(summary.Rows.Count + 1, html.Split("<img ").Length - 1);   // every row and the real pictures
        Assert.All(Directory.GetFiles(Path.GetDirectoryName(summary.Report)!, "*.png"), png =>
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(png).Take(4)));
    }

    [Fact]
    public void ShippedSourcesDrawWhatTheirOwnLanguageSays()
    {
        string output = Path.Combine(folder.FullName, "sources");
        var (code, stdout, stderr) = CliProcess.Run("demo", "diffusion", "--quick", "--json",
            "--models", Path.Combine(SharedData.RepoRoot, "demo", "models", "diffusion"), "--out", output);
        Assert.True(code == 0, stderr);
        var summary = JsonSerializer.Deserialize<DiffusionSummary>(stdout)!;
        // Chance is 1/72 (4 kinds × 6 colours × 3 counts). The sources are what the issue says they are: L draws its
        // own English prompts far above chance in 4 steps and ignores Japanese ones; J draws Japanese prompts well at
        // 50 steps and worse at 4.
        Assert.True(summary["L@4-en"].Fidelity > 0.2, $"L@4 on English prompts: {summary["L@4-en"].Fidelity:F3}");
        Assert.True(summary["L@4"].Fidelity < 0.1, $"L@4 on Japanese prompts: {summary["L@4"].Fidelity:F3}");
        Assert.True(summary["J@50"].Fidelity > 0.2, $"J@50: {summary["J@50"].Fidelity:F3}");
        Assert.True(summary["J@4"].Fidelity < summary["J@50"].Fidelity, $"J@4 {summary["J@4"].Fidelity:F3}, J@50 {summary["J@50"].Fidelity:F3}");
    }
}
