using System.Text.Json;
using System.Text.Json.Nodes;
using Xunit.Abstractions;
using EvoMerge.IO;
using EvoMerge.Merge.Execution;
using EvoMerge.Merge.Output;
using EvoMerge.Merge.Recipes;
using EvoMerge.TestSupport;
using EvoMerge.Torch.Vision.Runtime;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Tests.Vision;

/// <summary>
/// VLM + LLM merges (issue 15 §2) on tiny generated folders: a random llava written by <c>llava_reference.py</c> and
/// plain Llama LLMs made from its language model plus noise by <c>vlm_merge_reference.py</c>, which also computes
/// the expected output in numpy float64 (decoder tensors by name correspondence through methods_reference.py,
/// vision tower and projector copied, rows only the VLM has copied). Tolerance: float32 against float64,
/// |Δ| ≤ 1e-5 × max(1, |x|). The merged folder is then run by our runtime and by the PyTorch reference.
/// </summary>
public class VlmMergeTests(ITestOutputHelper output)
{
    const int Vocab = 72, ImageToken = 64, TextRows = 64, Size = 28;

    static string Script => Path.Combine(AppContext.BaseDirectory, "Reference", "vlm_merge_reference.py");

    static string MakeLlm(string vlm, int seed, int rows = TextRows)
    {
        string dir = Directory.CreateTempSubdirectory("llm-").FullName;
        var (code, _, err) = PythonReference.Run($"\"{Script}\" make-llm \"{vlm}\" \"{dir}\" --seed {seed} --rows {rows}", TimeSpan.FromMinutes(2));
        Assert.True(code == 0, "vlm_merge_reference.py make-llm failed: " + err);
        return dir;
    }

    static Dictionary<string, double[]> Expected(string recipe, ulong seed)
    {
        string outPath = Path.Combine(Path.GetDirectoryName(recipe)!, "expected.json");
        var (code, _, err) = PythonReference.Run($"\"{Script}\" expect \"{recipe}\" \"{outPath}\" {seed}", TimeSpan.FromMinutes(2));
        Assert.True(code == 0, "vlm_merge_reference.py expect failed: " + err);
        return JsonSerializer.Deserialize<Dictionary<string, double[]>>(File.ReadAllText(outPath))!;
    }

    static string Write(string text)
    {
        string dir = Directory.CreateTempSubdirectory("vlm-recipe-").FullName, path = Path.Combine(dir, "recipe.yml");
        File.WriteAllText(path, text);
        return path;
    }

    static PlannedRecipe Merge(string recipe, string outDir, ulong seed)
    {
        var planned = RecipePlanner.Plan(RecipeParser.Load(recipe));
        MergedModelWriter.Write(planned, outDir, new MergeOptions { Seed = seed, Threads = 1 });
        return planned;
    }

    /// <summary>Every output tensor against the reference; the VLM-only tensors and rows byte for byte against the VLM.</summary>
    void CheckAgainstReference(string vlm, string merged, Dictionary<string, double[]> expected)
    {
        using var source = ModelFolder.Open(vlm);
        using var result = ModelFolder.Open(merged);
        Assert.Equal(source.Weights.Tensors.Select(t => t.Name).Order(), result.Weights.Tensors.Select(t => t.Name).Order());
        Assert.Equal(expected.Keys.Order(), result.Weights.Tensors.Select(t => t.Name).Order());
        double worst = 0;
        foreach (var t in result.Weights.Tensors)
        {
            var actual = new float[t.ElementCount];
            result.Weights.ReadFloat32(t.Name, actual);
            var e = expected[t.Name];
            Assert.Equal(e.Length, actual.Length);
            for (int i = 0; i < e.Length; i++)
            {
                double err = Math.Abs(actual[i] - e[i]);
                Assert.True(err <= 1e-5 * Math.Max(1, Math.Abs(e[i])), $"{t.Name}[{i}]: {actual[i]} vs reference {e[i]}");
                worst = Math.Max(worst, err);
            }
            if (source.Anatomy.DecoderName(t.Name) == null)
                Assert.True(source.Weights.GetBytes(t.Name).SequenceEqual(result.Weights.GetBytes(t.Name)), $"{t.Name} is not bit-identical to the VLM's");
        }
        // Rows only the VLM has: byte for byte.
        foreach (var name in result.Weights.Tensors.Select(t => t.Name).Where(n => n.EndsWith("embed_tokens.weight") || n.EndsWith("lm_head.weight")))
        {
            long row = result.Weights.Tensors.First(t => t.Name == name).Shape[1] * 4;
            Assert.True(source.Weights.GetBytes(name)[(int)(TextRows * row)..].SequenceEqual(result.Weights.GetBytes(name)[(int)(TextRows * row)..]), $"{name}: rows {TextRows}.. differ from the VLM's");
        }
        output.WriteLine($"worst |merged - numpy float64| = {worst:E2}");
    }

    /// <summary>The merged folder runs in our runtime and in the PyTorch reference with the same logits.</summary>
    static void CheckRuns(string merged, int tokensPerImage)
    {
        using var vlm = LoadedVlm.Load(merged);
        var rng = new Random(3);
        var pixels = Enumerable.Range(0, 3 * Size * Size).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
        int[] ids = [1, .. Enumerable.Repeat(ImageToken, tokensPerImage), 5, 9, 33, 70, 12];
        var expected = LlavaFixture.Logits(merged, [new LlavaFixture.Case(ids, pixels)], Vocab)[0];
        using var scope = NewDisposeScope();
        var features = vlm.Model.ImageFeatures(tensor(pixels, [1L, 3, Size, Size]));
        var actual = vlm.Model.Forward(tensor(ids.Select(x => (long)x).ToArray(), [1L, ids.Length]), features).data<float>().ToArray();
        double err = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max(), scale = expected.Max(Math.Abs);
        Assert.True(err <= 1e-4 * Math.Max(1, scale), $"max |runtime - pytorch| = {err} (logits up to {scale})");
    }

    [PythonReferenceFact("torch")]
    public void DareTiesOfAVlmAndAnLlmOverTheirCommonBaseMatchesNumpyAndRuns()
    {
        string vlm = LlavaFixture.Make(seed: 21, vocab: Vocab, imageToken: ImageToken);
        string baseLlm = MakeLlm(vlm, 1), jp = MakeLlm(vlm, 2), merged = Path.Combine(Path.GetTempPath(), $"vlm-merged-{Guid.NewGuid():N}");
        string recipe = Write($"""
            merge_method: dare_ties
            base_model: {baseLlm}
            models:
              - model: {vlm}
                parameters: {"{"}weight: 0.6, density: 0.7{"}"}
              - model: {jp}
                parameters: {"{"}weight: 0.5, density: 0.5{"}"}
            """);
        try
        {
            using (var planned = Merge(recipe, merged, seed: 7))
            {
                Assert.Contains(planned.Notes, n => n.Contains("language_model.model.embed_tokens.weight: 72 rows") && n.Contains("rows 0..63 merged, rows 64..71"));
                Assert.Contains(planned.Notes, n => n.StartsWith("vision tower: ") && n.Contains("copied bit for bit"));
                Assert.Contains(planned.Notes, n => n.StartsWith("projector: 4 tensors"));
            }
            CheckAgainstReference(vlm, merged, Expected(recipe, 7));
            var config = JsonNode.Parse(File.ReadAllText(Path.Combine(merged, "config.json")))!;
            Assert.Equal("LlavaForConditionalGeneration", (string?)config["architectures"]![0]);
            Assert.Equal(72, (int)config["text_config"]!["vocab_size"]!);
            Assert.Equal(2, (int)config["text_config"]!["num_hidden_layers"]!);
            Assert.True(File.Exists(Path.Combine(merged, "preprocessor_config.json")));
            CheckRuns(merged, tokensPerImage: 16);
        }
        finally
        {
            foreach (var d in new[] { vlm, baseLlm, jp, merged, Path.GetDirectoryName(recipe)! }) if (Directory.Exists(d)) Directory.Delete(d, true);
        }
    }

    [PythonReferenceFact("torch")]
    public void ModulesRecipeWithATransformers5VlmAsBaseMatchesNumpyAndRuns()
    {
        string vlm = LlavaFixture.Make(seed: 22, layout: "5", text: "mistral", vocab: Vocab, imageToken: ImageToken);
        string jp = MakeLlm(vlm, 3), other = MakeLlm(vlm, 4), merged = Path.Combine(Path.GetTempPath(), $"vlm-merged-{Guid.NewGuid():N}");
        string recipe = Write($"""
            merge_method: ties
            base_model: {vlm}
            parameters:
              weight: 0.3
              density: 0.9
            modules:
              text_decoder:
                parameters:
                  density: 0.6
                models:
                  - model: {jp}
                    parameters: {"{"}weight: 0.7{"}"}
                  - model: {other}
              vision_tower:
                models:
                  - model: {vlm}
              multi_modal_projector:
                models:
                  - model: {vlm}
            """);
        try
        {
            Merge(recipe, merged, seed: 0).Dispose();
            CheckAgainstReference(vlm, merged, Expected(recipe, 0));
            CheckRuns(merged, tokensPerImage: 16);
        }
        finally
        {
            foreach (var d in new[] { vlm, jp, other, merged, Path.GetDirectoryName(recipe)! }) if (Directory.Exists(d)) Directory.Delete(d, true);
        }
    }

    [PythonReferenceFact("torch")]
    public void VisionStaysInItsDtypeAndBadSourcesAreOneLineErrors()
    {
        string vlm = LlavaFixture.Make(seed: 23, vocab: Vocab, imageToken: ImageToken);
        string jp = MakeLlm(vlm, 5), small = MakeLlm(vlm, 6, rows: 40), merged = Path.Combine(Path.GetTempPath(), $"vlm-merged-{Guid.NewGuid():N}");
        var recipes = new List<string>();
        string Recipe(string text) { recipes.Add(Write(text)); return recipes[^1]; }
        try
        {
            // out_dtype bfloat16: the language model is bf16, the vision tower and projector keep the VLM's F32 bits.
            Merge(Recipe($"merge_method: linear\nout_dtype: bfloat16\nmodels:\n  - model: {vlm}\n    parameters: {{weight: 1}}\n  - model: {jp}\n    parameters: {{weight: 1}}\n"), merged, 0).Dispose();
            using (var source = ModelFolder.Open(vlm))
            using (var result = ModelFolder.Open(merged))
                foreach (var t in result.Weights.Tensors)
                {
                    bool copied = source.Anatomy.DecoderName(t.Name) == null;
                    Assert.Equal(copied ? DType.F32 : DType.BF16, t.DType);
                    if (copied) Assert.True(source.Weights.GetBytes(t.Name).SequenceEqual(result.Weights.GetBytes(t.Name)), t.Name);
                }

            string Error(string text) => Assert.Throws<EvoMergeException>(() => RecipePlanner.Plan(RecipeParser.Load(Recipe(text))).Dispose()).Message;
            string rows = Error($"merge_method: linear\nmodels:\n  - model: {vlm}\n    parameters: {{weight: 1}}\n  - model: {small}\n    parameters: {{weight: 1}}\n");
            Assert.Contains("has 40 rows in 'model.embed_tokens.weight'", rows);
            Assert.Contains("64 text tokens before its image token", rows);
            Assert.Contains("recipe.yml:", rows);
            string union = Error($"merge_method: linear\ntokenizer_source: union\nmodels:\n  - model: {vlm}\n    parameters: {{weight: 1}}\n  - model: {jp}\n    parameters: {{weight: 1}}\n");
            Assert.Contains("keeps its tokenizer (with the image token)", union);
            string vision = Error($"merge_method: linear\nmodules:\n  text_decoder:\n    models:\n      - model: {vlm}\n        parameters: {{weight: 1}}\n  vision_tower:\n    models:\n      - model: {jp}\n");
            Assert.Contains("modules.vision_tower", vision);
            Assert.Contains("is not the VLM of the merge", vision);
            foreach (var message in new[] { rows, union, vision }) Assert.DoesNotContain('\n', message);
        }
        finally
        {
            foreach (var d in new[] { vlm, jp, small, merged }.Concat(recipes.Select(Path.GetDirectoryName)!)) if (Directory.Exists(d)) Directory.Delete(d!, true);
        }
    }
}
