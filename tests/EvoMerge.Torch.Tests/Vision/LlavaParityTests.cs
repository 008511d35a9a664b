using Xunit.Abstractions;
using EvoMerge.TestSupport;
using EvoMerge.Torch.Generation;
using EvoMerge.Torch.Vision.Model;
using EvoMerge.Torch.Vision.Runtime;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Tests.Vision;

/// <summary>
/// The LLaVA runtime against <c>llava_reference.py</c>: a random tiny folder written by the Python fixture (not by
/// this runtime), its CLIP ViT, projector and Llama written out in plain PyTorch float64. Tolerance: float32
/// against float64, |Δlogit| ≤ 1e-4 × max(1, max |logit|) — measured errors are ~1e-6 of the scale.
/// </summary>
public class LlavaParityTests(ITestOutputHelper output)
{
    const int ImageToken = 70, Vocab = 72, Size = 28;

    [PythonReferenceFact("torch")]
    public void Transformers4LayoutWithDefaultStrategyMatchesPyTorch() => Check(LlavaFixture.Make(seed: 5), tokensPerImage: 16);

    [PythonReferenceFact("torch")]
    public void Transformers5LayoutWithFullStrategyAndTwoFeatureLayersMatchesPyTorch() =>
        Check(LlavaFixture.Make(seed: 6, layout: "5", strategy: "full", layers: "-1,1", text: "mistral"), tokensPerImage: 17);

    void Check(string dir, int tokensPerImage)
    {
        try
        {
            using var vlm = LoadedVlm.Load(dir);
            Assert.Equal(tokensPerImage, vlm.Model.Config.TokensPerImage);
            var rng = new Random(11);
            float[] Pixels(int images) => Enumerable.Range(0, images * 3 * Size * Size).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
            int[] Image() => Enumerable.Repeat(ImageToken, tokensPerImage).ToArray();
            LlavaFixture.Case[] cases =
            [
                new([1, .. Image(), 5, 9, 33, 12], Pixels(1)),
                new([1, 4, .. Image(), 8, 2, .. Image(), 60, 7], Pixels(2)),
                new([1, 5, 9, 2, 33, 60, 7], null),
            ];
            var expected = LlavaFixture.Logits(dir, cases, Vocab);

            using var scope = NewDisposeScope();
            double worst = 0;
            for (int i = 0; i < cases.Length; i++)
            {
                var c = cases[i];
                var features = c.Pixels is null ? null
                    : vlm.Model.ImageFeatures(tensor(c.Pixels, [c.Pixels.Length / (3 * Size * Size), 3, Size, Size]));
                var actual = vlm.Model.Forward(tensor(c.Ids.Select(x => (long)x).ToArray(), [1L, c.Ids.Length]), features).data<float>().ToArray();
                Assert.Equal(expected[i].Length, actual.Length);
                double err = expected[i].Zip(actual, (e, a) => Math.Abs(e - a)).Max(), scale = expected[i].Max(Math.Abs);
                Assert.True(err <= 1e-4 * Math.Max(1, scale), $"case {i}: max |runtime - pytorch| = {err} (logits up to {scale})");
                worst = Math.Max(worst, err / Math.Max(1, scale));
            }

            output.WriteLine($"worst |runtime - pytorch| / max(1, max |logit|) = {worst:E2}");

            // Batched, left-padded generation through the image-conditioned model: its first token is the reference's argmax.
            var batchPixels = cases[0].Pixels!.Concat(cases[1].Pixels!).ToArray();
            var batchFeatures = vlm.Model.ImageFeatures(tensor(batchPixels, [3L, 3, Size, Size]));
            var generated = TokenGenerator.Generate(new ImageConditionedModel(vlm.Model, batchFeatures),
                [cases[0].Ids, cases[1].Ids], new SamplingOptions(MaxNewTokens: 1), eosId: null);
            for (int b = 0; b < 2; b++)
            {
                var last = expected[b].AsSpan((cases[b].Ids.Length - 1) * Vocab, Vocab).ToArray();
                Assert.Equal(Array.IndexOf(last, last.Max()), generated[b][0]);
            }
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
