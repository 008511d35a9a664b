using EvoMerge.Evolution.Config;

namespace EvoMerge.Tests.Evolution;

public class EvolutionConfigReaderTests
{
    internal const string Example = """
        name: evollm-ja-mini
        seed: 3
        base_model: ./models/base
        models: [./models/ja, ./models/math-en]
        space: ps+dfs
        ps: { method: dare_ties, layer_groups: 4, head_group: true, split_attention_mlp: true, parameters: [weight, density], ranges: { weight: [0, 2] }, baselines: [{ weight: 1, density: 0.5 }], start: [{ weight: 0, density: 1 }, { weight: 0.25, density: 0.9 }] }
        dfs: { repeats: 2, max_path_length: 12, scales: per_slot, models: [./models/ja] }
        optimizer: { name: cma-es, population: 12, generations: 20 }
        fitness:
          - { task: mgsm, data: ./dev.tsv, language: ja, max_new_tokens: 8, minibatch: 100, weight: 1.0 }
        test:
          - { task: mgsm, data: ./test.tsv, language: ja }
        """;

    static EvolutionConfig Parse(string yaml) => EvolutionConfigReader.Parse(yaml, "evolve.yml", "/runs/here");

    [Fact]
    public void The_documented_example_reads_into_the_config_it_describes()
    {
        var c = Parse(Example);
        Assert.Equal("evollm-ja-mini", c.Name);
        Assert.Equal(3, c.Seed);
        Assert.Equal(SearchSpaceKind.PsThenDfs, c.Space);
        Assert.Equal(["./models/ja", "./models/math-en"], c.Models);
        Assert.Equal("/runs/here/models/base", c.ResolveModel(c.BaseModel!));
        Assert.Equal("org/model@main", c.ResolveModel("org/model@main"));   // a Hugging Face id stays as written
        Assert.Equal(4, c.Ps.LayerGroups);
        Assert.True(c.Ps.SplitAttentionMlp);
        Assert.Null(c.Ps.EmbeddingsGroup);
        Assert.True(c.Ps.HeadGroup);
        Assert.Equal(new ParameterRange(0, 2), c.Ps.RangeOf("weight"));
        Assert.Equal(new ParameterRange(0.01, 1), c.Ps.RangeOf("density"));
        Assert.Equal(0.5, Assert.Single(c.Ps.Baselines)["density"]);
        Assert.Equal([0.0, 0.25], c.Ps.Start!.Select(s => s["weight"]));
        Assert.Equal(0.9, c.Ps.Start![1]["density"]);
        Assert.Equal(DfsScales.PerSlot, c.Dfs.Scales);
        Assert.Equal(12, c.Dfs.MaxPathLength);
        Assert.Equal(["./models/ja"], c.Dfs.Models!);
        Assert.True(c.Dfs.FixEnds);
        Assert.Equal(12, c.Optimizer.Population);
        Assert.Equal(20, c.Optimizer.Generations);
        Assert.Equal(1.0 / 6, c.Optimizer.Sigma0);
        var task = Assert.Single(c.Fitness);
        Assert.Equal(("mgsm", "./dev.tsv", "ja", 8, 100, 1.0), (task.Task, task.Data, task.Language, task.MaxNewTokens, task.Minibatch, task.Weight));
        Assert.True(c.UsesMinibatches);
        Assert.Null(Assert.Single(c.Test).Minibatch);
    }

    [Theory]
    [InlineData("optimizer: { name: cma-es, popultion: 12, generations: 20 }", "line 5: unknown key 'optimizer.popultion' (did you mean 'population'?)")]
    [InlineData("optimizer: { generations: 20 }\nfitnes: []", "line 6: unknown key 'fitnes' (did you mean 'fitness'?)")]
    [InlineData("optimizer: { generations: twenty }", "line 5: 'optimizer.generations' must be an integer ≥ 1, got 'twenty'")]
    [InlineData("optimizer: { generations: 20 }\nspace: psdfs", "line 6: 'space' must be one of ps, dfs, ps+dfs, got 'psdfs' (did you mean 'ps+dfs'?)")]
    [InlineData("optimizer: { population: 8 }", "'optimizer' needs 'generations' or 'max_evaluations'")]
    [InlineData("optimizer: { name: cmaes, generations: 2 }", "'optimizer.name': unknown optimiser 'cmaes' (did you mean 'cma-es'?)")]
    [InlineData("optimizer: { generations: 2 }\nps: { method: dare_tie }", "'ps.method': unknown merge method 'dare_tie' (did you mean 'dare_ties'?)")]
    [InlineData("optimizer: { generations: 2 }\nps: { baselines: [{ weight: 1 }] }", "'ps.baselines': each baseline gives exactly the evolved parameters (weight, density)")]
    [InlineData("optimizer: { generations: 2 }\nps: { ranges: { wieght: [0, 1] } }", "'ps.ranges.wieght' is not an evolved parameter (did you mean 'weight'?)")]
    public void Mistakes_are_reported_with_file_line_key_and_expectation(string tail, string expected)
    {
        string yaml = """
            name: x
            models: [a, b]
            fitness:
              - { task: mgsm, data: dev.tsv }

            """ + tail;
        var e = Assert.Throws<EvoMergeException>(() => Parse(yaml));
        Assert.StartsWith("evolve.yml: ", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void A_task_with_an_unknown_key_names_its_position_in_the_list()
    {
        var e = Assert.Throws<EvoMergeException>(() => Parse("""
            name: x
            models: [a, b]
            optimizer: { generations: 1 }
            fitness:
              - { task: mgsm, data: dev.tsv }
              - { task: mgsm, data: dev.tsv, minibach: 10 }
            """));
        Assert.Contains("line 6: unknown key 'fitness[1].minibach' (did you mean 'minibatch'?)", e.Message);
    }

    [Theory]
    [InlineData("0", "line 6: 'test[0].repetition_penalty' must be positive (1 = no penalty, 1.5 as in EvoVLM-JP's evaluation), got 0")]
    [InlineData("-1.5", "line 6: 'test[0].repetition_penalty' must be positive (1 = no penalty, 1.5 as in EvoVLM-JP's evaluation), got -1.5")]
    public void A_repetition_penalty_that_is_not_positive_names_file_line_and_task(string penalty, string expected)
    {
        var e = Assert.Throws<EvoMergeException>(() => Parse($$"""
            name: x
            models: [a, b]
            optimizer: { generations: 1 }
            fitness: [{ task: vqa, data: dev.jsonl }]
            test:
              - { task: vqa, data: dev.jsonl, num_beams: 5, repetition_penalty: {{penalty}} }
            """));
        Assert.Equal("evolve.yml: " + expected, e.Message);
    }

    [Fact]
    public void A_missing_required_key_is_named()
    {
        var e = Assert.Throws<EvoMergeException>(() => Parse("name: x\nfitness: []\noptimizer: { generations: 1 }"));
        Assert.Equal("evolve.yml: missing required key 'models'", e.Message);
    }
}
