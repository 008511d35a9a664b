using Xunit.Abstractions;
using EvoMerge.Candidates;
using EvoMerge.Evolution.Output;
using EvoMerge.IO;
using EvoMerge.TestSupport;
using EvoMerge.Torch.Generation;
using EvoMerge.Torch.Model;
using EvoMerge.Torch.Weights;
using EvoMerge.Torch.Vision.Model;
using EvoMerge.Torch.Vision.Runtime;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Tests.Vision;

/// <summary>
/// Issue 15 §4, data-flow merging with a VLM as model A: a layer path over the language-model layers of a tiny
/// llava (written by <c>llava_reference.py</c>) and of a text LLM sharing its base, with the llava's image features
/// at the embedding stage. Checked against <c>llava_reference.py path-logits</c> (plain PyTorch float64, its own
/// reading of a path: each step's scale multiplies the previous layer's MLP output before it joins the stream), and
/// the written llava folder (<see cref="LayerStackWriter"/>) against the same reference in both runtimes.
/// Tolerance as <see cref="LlavaParityTests"/>: |Δlogit| ≤ 1e-4 × max(1, max |logit|).
/// </summary>
public class VlmDfsTests(ITestOutputHelper output)
{
    const int ImageToken = 70, Vocab = 72, Size = 28, TokensPerImage = 16;
    static string MergeScript => Path.Combine(AppContext.BaseDirectory, "Reference", "vlm_merge_reference.py");

    [PythonReferenceFact("torch")]
    public void PathOfTheVlmsOwnLayersGivesTheVlmsLogitsAndTokens()
    {
        var (vlmDir, llmDir) = Make("4");
        try
        {
            using var vlm = LoadedVlm.Load(vlmDir);
            using var llm = Decoder(llmDir);
            // The text LLM is loaded as a second source but the path uses none of its layers.
            var path = new LayerPathModel([vlm.Model.LanguageModel, llm], 0, LayerPathModel.Identity(0, 2));
            var cases = Cases(new Random(3));
            using var scope = NewDisposeScope();
            foreach (var c in cases)
            {
                var features = Features(vlm, c);
                var ids = Ids(c);
                var own = vlm.Model.Forward(ids, features).data<float>().ToArray();
                var viaPath = new ImageConditionedModel(vlm.Model, features, path).Forward(ids).data<float>().ToArray();
                Assert.Equal(own, viaPath);   // the same operations in the same order
            }
            var batch = Features(vlm, new LlavaFixture.Case([], cases[0].Pixels!.Concat(cases[1].Pixels!).ToArray()));
            int[][] prompts = [cases[0].Ids, cases[1].Ids];
            var options = new SamplingOptions(MaxNewTokens: 4, NumBeams: 2, RepetitionPenalty: 1.5f);
            Assert.Equal(TokenGenerator.Generate(new ImageConditionedModel(vlm.Model, batch), prompts, options, eosId: null),
                TokenGenerator.Generate(new ImageConditionedModel(vlm.Model, batch, path), prompts, options, eosId: null));
        }
        finally { Delete(vlmDir, llmDir); }
    }

    [PythonReferenceTheory("torch")]
    [InlineData("4")]
    [InlineData("5")]
    public void MixedScaledPathMatchesPyTorchInMemoryAndAsTheWrittenLlava(string layout)
    {
        var (vlmDir, llmDir) = Make(layout);
        string written = Path.Combine(Directory.CreateTempSubdirectory("vlm-dfs-out-").FullName, "model");
        try
        {
            // VLM layer 0, the LLM's layer 1 twice, VLM layer 1, the LLM's layer 0; a scale on every hop, the first included.
            PathStep[] steps = [new(0, 0, 1.3), new(1, 1, 0.8), new(1, 1, 1.2), new(0, 1, 0.7), new(1, 0, 1.1)];
            var cases = Cases(new Random(5));
            var expected = LlavaFixture.PathLogits([vlmDir, llmDir], steps, cases, Vocab);

            double worst;
            using (var vlm = LoadedVlm.Load(vlmDir))
            using (var llm = Decoder(llmDir))
            {
                var path = new LayerPathModel([vlm.Model.LanguageModel, llm], 0, steps);
                worst = Compare(expected, cases, c => new ImageConditionedModel(vlm.Model, Features(vlm, c), path).Forward(Ids(c)), "in memory");
            }

            LayerStackWriter.Write(new LayerPath([vlmDir, llmDir], steps), written);
            using (var stacked = LoadedVlm.Load(written))
            {
                Assert.Equal(steps.Length, stacked.Model.Config.Text.NumLayers);
                worst = Math.Max(worst, Compare(expected, cases, c => stacked.Model.Forward(Ids(c), Features(stacked, c)), "written folder"));
            }
            // The written folder read by the reference itself (its plain llava forward), not by this runtime.
            var reread = LlavaFixture.Logits(written, cases, Vocab);
            for (int i = 0; i < cases.Length; i++)
                Assert.True(MaxError(expected[i], reread[i]) <= 1e-4 * Math.Max(1, expected[i].Max(Math.Abs)), $"case {i}: the reference on the written folder");
            output.WriteLine($"layout {layout}: worst |runtime - pytorch| / max(1, max |logit|) = {worst:E2}");

            // The vision tower is the VLM's bit for bit, in the VLM's layout; the projector's last linear carries step 0's scale.
            using var source = ModelFolder.Open(vlmDir);
            using var output_ = ModelFolder.Open(written);
            Assert.Equal(source.Weights.Tensors.Count(t => source.Anatomy.DecoderName(t.Name) == null),
                output_.Weights.Tensors.Count(t => output_.Anatomy.DecoderName(t.Name) == null));
            foreach (var t in source.Weights.Tensors.Where(t => source.Anatomy.DecoderName(t.Name) == null))
            {
                var a = source.Weights.GetBytes(t.Name).ToArray();
                var b = output_.Weights.GetBytes(t.Name).ToArray();
                if (!t.Name.Contains("linear_2", StringComparison.Ordinal)) { Assert.True(a.SequenceEqual(b), t.Name); continue; }
                var (x, y) = (System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(a).ToArray(), System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(b).ToArray());
                for (int k = 0; k < x.Length; k++) Assert.Equal(x[k] * 1.3f, y[k]);
            }
            Assert.Equal(layout == "5", output_.Weights.Tensors.Any(t => t.Name.StartsWith("model.language_model.layers.4.", StringComparison.Ordinal)));
            Assert.True(File.Exists(Path.Combine(written, "preprocessor_config.json")));
        }
        finally
        {
            Delete(vlmDir, llmDir);
            Directory.Delete(Path.GetDirectoryName(written)!, recursive: true);
        }
    }

    double Compare(List<float[]> expected, LlavaFixture.Case[] cases, Func<LlavaFixture.Case, Tensor> forward, string what)
    {
        double worst = 0;
        for (int i = 0; i < cases.Length; i++)
        {
            using var scope = NewDisposeScope();
            var actual = forward(cases[i]).data<float>().ToArray();
            Assert.Equal(expected[i].Length, actual.Length);
            double err = MaxError(expected[i], actual), scale = expected[i].Max(Math.Abs);
            Assert.True(err <= 1e-4 * Math.Max(1, scale), $"{what}, case {i}: max |runtime - pytorch| = {err} (logits up to {scale})");
            worst = Math.Max(worst, err / Math.Max(1, scale));
        }
        return worst;
    }

    static double MaxError(float[] a, float[] b) => a.Zip(b, (x, y) => (double)Math.Abs(x - y)).Max();

    /// <summary>A tiny llava (seed 5, 2 language-model layers) and a text LLM: its language model plus N(0, 0.3²) noise.</summary>
    static (string Vlm, string Llm) Make(string layout)
    {
        string vlm = LlavaFixture.Make(seed: 5, layout: layout, text: layout == "5" ? "mistral" : "llama");
        string llm = Directory.CreateTempSubdirectory("vlm-dfs-llm-").FullName;
        var (code, _, err) = PythonReference.Run($"\"{MergeScript}\" make-llm \"{vlm}\" \"{llm}\" --seed 8 --rows {ImageToken} --noise 0.3", TimeSpan.FromMinutes(2));
        Assert.True(code == 0, err);
        return (vlm, llm);
    }

    /// <summary>The text LLM's decoder alone (the fixture folder has no tokenizer, which a path's model B does not need).</summary>
    static LlamaForCausalLM Decoder(string dir)
    {
        using var folder = ModelFolder.Open(dir);
        var model = new LlamaForCausalLM(LlamaConfig.From(folder.Config!, dir));
        model.eval();
        new ResidentWeights(model, model.Config.TieWordEmbeddings).CopyFrom(folder.Weights);
        return model;
    }

    static LlavaFixture.Case[] Cases(Random rng)
    {
        float[] Pixels(int images) => Enumerable.Range(0, images * 3 * Size * Size).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
        int[] Image() => Enumerable.Repeat(ImageToken, TokensPerImage).ToArray();
        return
        [
            new([1, .. Image(), 5, 9, 33, 12], Pixels(1)),
            new([1, 4, .. Image(), 8, 2, .. Image(), 60, 7], Pixels(2)),
            new([1, 5, 9, 2, 33, 60, 7], null),
        ];
    }

    static Tensor Ids(LlavaFixture.Case c) => tensor(c.Ids.Select(x => (long)x).ToArray(), [1L, c.Ids.Length]);

    static Tensor? Features(LoadedVlm vlm, LlavaFixture.Case c) => c.Pixels is null ? null
        : vlm.Model.ImageFeatures(tensor(c.Pixels, [c.Pixels.Length / (3 * Size * Size), 3, Size, Size]));

    static void Delete(params string[] dirs)
    {
        foreach (var d in dirs) if (Directory.Exists(d)) Directory.Delete(d, recursive: true);
    }
}
