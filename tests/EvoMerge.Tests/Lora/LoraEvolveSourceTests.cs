using System.Text.Json.Nodes;
using EvoMerge.Candidates;
using EvoMerge.Evolution;
using EvoMerge.Evolution.Config;
using EvoMerge.Evolution.External;
using EvoMerge.Evolution.Run;
using EvoMerge.IO;
using EvoMerge.TestSupport;

namespace EvoMerge.Tests.Lora;

/// <summary>
/// An evolve over a <c>model+lora</c> source (a search over <c>base+lightning</c>-style sources), scored by the external
/// test scorer (External/scorer.py, its own safetensors reader) on constant-valued models. The PEFT adapter turns
/// source a (1 everywhere) into 1.5 everywhere: rank-1 factors of constant value add 0.5 to q_proj and up_proj
/// (B·A = 0.5 at alpha = r = 1) and modules_to_save replace every other tensor by 1.5. So a task-arithmetic merge over
/// base 0 with weights w₁, w₂ holds 1.5·w₁ + 2·w₂ everywhere, checked against the scorer's formula by hand; unfolded,
/// it would hold w₁ + 2·w₂.
/// </summary>
public sealed class LoraEvolveSourceTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("evo-lora-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    string Adapter()
    {
        var tensors = new List<(string, long[], float[])>();
        foreach (var t in ConstantModels.Tensors)
        {
            string module = t.Name[..^".weight".Length];
            if (t.Name.Contains("q_proj") || t.Name.Contains("up_proj"))
            {
                long rows = t.Shape[0], cols = t.Shape[1];
                tensors.Add(($"base_model.model.{module}.lora_A.weight", [1, cols], Enumerable.Repeat(0.5f, (int)cols).ToArray()));
                tensors.Add(($"base_model.model.{module}.lora_B.weight", [rows, 1], Enumerable.Repeat(1f, (int)rows).ToArray()));
            }
            else tensors.Add(($"base_model.model.{t.Name}", t.Shape, Enumerable.Repeat(1.5f, (int)t.ElementCount).ToArray()));
        }
        var config = new JsonObject
        {
            ["peft_type"] = "LORA", ["r"] = 1, ["lora_alpha"] = 1, ["target_modules"] = new JsonArray("q_proj", "up_proj"),
            ["modules_to_save"] = new JsonArray("lm_head", "embed_tokens", "input_layernorm", "norm"),
        };
        return LoraFiles.WritePeft(Path.Combine(_dir, "adapter"), config, tensors);
    }

    [PythonReferenceFact("json")]
    public void Evolve_over_a_model_plus_lora_source_scores_the_folded_source_and_its_merges()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "models"));
        ConstantModels.WriteSources(Path.Combine(_dir, "models"));
        Adapter();
        string scorer = $"command: [python3, {ConstantModels.Scorer}, score, \"{{model}}\", \"{{out}}\"]";
        var config = EvolutionConfigReader.Parse($$"""
            name: lora-source
            seed: 3
            base_model: ./models/base
            models: [./models/a+./adapter, ./models/b]
            ps: { method: task_arithmetic, parameters: [weight] }
            optimizer: { population: 4, generations: 2 }
            fitness:
              - { {{scorer}} }
            test:
              - { {{scorer}} }
            """, "evolve.yml", _dir);
        Assert.Equal(Path.Combine(_dir, "models", "a") + "+" + Path.Combine(_dir, "adapter"), config.ResolveModel(config.Models[0]));
        string run = Path.Combine(_dir, "run");
        var before = Hashes();
        EvolutionResult result;
        using (var scratch = new ScratchSpace(Path.Combine(_dir, "scratch")))
            result = EvolutionRunner.Run(config, new ExternalFitnessEvaluator(null, scratch, "float32"), run);

        static double Merged(ModelBuild build)
        {
            var recipe = ((MergeBuild)build).Recipe;
            return 1.5 * recipe.Value(0, 0, "weight") + 2 * recipe.Value(0, 1, "weight");
        }
        var journal = Journal.Read(new RunFolder(run).JournalFile);
        var search = journal.Where(e => e.Kind == EntryKinds.Search).ToList();
        Assert.Equal(8, search.Count);
        foreach (var e in search) Assert.Equal(ConstantModels.ScoreOf(Merged(e.Candidate)), e.Scores[0], 5);
        // The test split: the sources (a with its adapter folded: 1.5; b: 2), then the best merge.
        var test = journal.Where(e => e.Kind == EntryKinds.Test).ToList();
        Assert.Equal(ConstantModels.ScoreOf(1.5), test[0].Scores[0], 6);
        Assert.Equal(ConstantModels.ScoreOf(2), test[1].Scores[0], 6);
        Assert.Equal(ConstantModels.ScoreOf(Merged(result.Best)), test[2].Scores[0], 5);
        // The best model and recipe keep the reference: `evomerge merge` of best-recipe.yml folds the adapter again.
        using (var best = ModelFolder.Open(Path.Combine(run, "best-model")))
        {
            var q = new float[64];
            best.Weights.ReadFloat32("model.layers.1.self_attn.q_proj.weight", q);
            Assert.All(q, v => Assert.Equal(Merged(result.Best), v, 5));
        }
        Assert.Contains("+" + Path.Combine(_dir, "adapter"), File.ReadAllText(new RunFolder(run).BestRecipe("ps")));
        Assert.Equal(before, Hashes());   // sources and adapter never written
    }

    /// <summary>
    /// ps.loras folds the adapter into every merge at its strength s: over base 0 with a (1) and b (2), a candidate holds
    /// m = w₁ + 2·w₂, then q_proj and up_proj get m + 0.5·s and the tensors the adapter saves whole m + s·(1.5 − m); the
    /// scorer's items are the nine tensors' means, so its score is checked against that by hand.
    /// </summary>
    [PythonReferenceFact("json")]
    public void Ps_loras_fold_into_every_merge_at_their_strength()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "models"));
        ConstantModels.WriteSources(Path.Combine(_dir, "models"));
        Adapter();
        string scorer = $"command: [python3, {ConstantModels.Scorer}, score, \"{{model}}\", \"{{out}}\"]";
        var config = EvolutionConfigReader.Parse($$"""
            name: ps-loras
            seed: 4
            base_model: ./models/base
            models: [./models/a, ./models/b]
            ps:
              method: task_arithmetic
              parameters: [weight]
              loras: [{path: ./adapter, strength: 0.4}]
            optimizer: { population: 4, generations: 2 }
            fitness:
              - { {{scorer}} }
            """, "evolve.yml", _dir);
        string run = Path.Combine(_dir, "run");
        using (var scratch = new ScratchSpace(Path.Combine(_dir, "scratch")))
            EvolutionRunner.Run(config, new ExternalFitnessEvaluator(null, scratch, "float32"), run);

        var search = Journal.Read(new RunFolder(run).JournalFile).Where(e => e.Kind == EntryKinds.Search).ToList();
        Assert.Equal(8, search.Count);
        foreach (var e in search)
        {
            var recipe = ((MergeBuild)e.Candidate).Recipe;
            double m = recipe.Value(0, 0, "weight") + 2 * recipe.Value(0, 1, "weight"), s = 0.4;
            var values = ConstantModels.Tensors.Select(t => t.Name.Contains("q_proj") || t.Name.Contains("up_proj") ? m + 0.5 * s : m + s * (1.5 - m));
            Assert.Equal(values.Average(ConstantModels.ScoreOf), e.Scores[0], 5);
        }
        Assert.Contains("loras:\n  - {path: '" + Path.Combine(_dir, "adapter") + "', strength: 0.4}", File.ReadAllText(new RunFolder(run).BestRecipe("ps")));
    }

    [Fact]
    public void Ps_loras_are_refused_with_m2n2_and_without_a_ps_stage()
    {
        string Config(string optimizer, string space) => $$"""
            name: x
            models: [./a, ./b]
            space: {{space}}
            ps: { method: linear, parameters: [weight], loras: [./lightning.safetensors] }
            optimizer: {{optimizer}}
            fitness:
              - { command: "python3 score.py {model} {out}" }
            """;
        var e = Assert.Throws<EvoMergeException>(() => EvolutionConfigReader.Parse(Config("{ name: m2n2, max_evaluations: 10 }", "ps"), "evolve.yml", _dir));
        Assert.Equal("evolve.yml: 'ps.loras' folds into PS merges; m2n2's blends do not take it (give the sources as model+lora instead)", e.Message);
        e = Assert.Throws<EvoMergeException>(() => EvolutionConfigReader.Parse(Config("{ generations: 2 }", "dfs"), "evolve.yml", _dir));
        Assert.Equal("evolve.yml: 'ps.loras' needs a ps stage (space: ps or ps+dfs)", e.Message);
    }

    List<string> Hashes() => Directory.EnumerateFiles(Path.Combine(_dir, "models"), "*", SearchOption.AllDirectories)
        .Concat(Directory.EnumerateFiles(Path.Combine(_dir, "adapter"))).Order(StringComparer.Ordinal)
        .Select(f => f + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f)))).ToList();
}
