using EvoMerge.Merge.Recipes;
using EvoMerge.Candidates;
using EvoMerge.Anatomy;
using EvoMerge.Evolution.Config;
using EvoMerge.Evolution.Spaces;

namespace EvoMerge.Tests.Evolution;

public class PsSpaceTests
{
    static GroupedRecipe Decode(PsSpace space, double[] genome) => ((MergeBuild)space.Decode(genome)).Recipe;

    static TensorPlace Place(string name) => ModelAnatomy.For("LlamaForCausalLM").Place(name);

    [Fact]
    public void One_group_per_model_is_the_papers_six_parameters_for_three_models()
    {
        var space = new PsSpace(new PsConfig(), "base", ["a", "b", "c"], layerCount: 32);
        Assert.Equal(6, space.Dimension);
        var group = Assert.Single(space.Groups);
        Assert.Equal(0, Decode(space, new double[6]).GroupOf(Place("model.embed_tokens.weight")));
        Assert.Equal((0, 31), (group.FirstLayer, group.LastLayer));
    }

    [Fact]
    public void Layer_groups_are_contiguous_and_embeddings_get_their_own_group()
    {
        // 8 layers in 3 groups: [0·8/3, 1·8/3) = 0..1, [2, 16/3) = 2..4, [5, 8) = 5..7.
        var space = new PsSpace(new PsConfig { LayerGroups = 3 }, "base", ["a", "b"], layerCount: 8);
        Assert.Equal(["embeddings", "layers 0-1", "layers 2-4", "layers 5-7"], space.Groups.Select(g => g.Name));
        Assert.Equal(4 * 2 * 2, space.Dimension);

        // Coordinate i = i/16; layout [group][model][parameter]: group 2, model 1, density is (2·2+1)·2+1 = 11.
        var recipe = Decode(space, Enumerable.Range(0, 16).Select(i => i / 16.0).ToArray());
        Assert.Equal(0.01 + 11 / 16.0 * 0.99, recipe.Values[recipe.GroupOf(Place("model.layers.3.mlp.down_proj.weight"))][1][1], 12);
        Assert.Equal(0.01 + 11 / 16.0 * 0.99, recipe.Value(2, 1, "density"), 12);
        Assert.Equal(2 / 16.0, recipe.Value(0, 1, "weight"), 12);                     // group 0 = embeddings
        Assert.Equal(0, recipe.GroupOf(Place("lm_head.weight")));
        Assert.Equal(0, recipe.GroupOf(Place("model.norm.weight")));
        Assert.Equal(3, recipe.GroupOf(Place("model.layers.7.self_attn.o_proj.weight")));
    }

    [Fact]
    public void Attention_and_mlp_split_carries_each_layer_norm_with_its_block()
    {
        var space = new PsSpace(new PsConfig { LayerGroups = 2, SplitAttentionMlp = true, Parameters = ["weight"] }, null, ["a", "b"], 4);
        Assert.Equal(["embeddings", "layers 0-1 attention", "layers 0-1 mlp", "layers 2-3 attention", "layers 2-3 mlp"],
            space.Groups.Select(g => g.Name));
        var recipe = Decode(space, new double[space.Dimension]);
        Assert.Equal(3, recipe.GroupOf(Place("model.layers.2.input_layernorm.weight")));
        Assert.Equal(2, recipe.GroupOf(Place("model.layers.1.post_attention_layernorm.weight")));
        Assert.Equal(4, recipe.GroupOf(Place("model.layers.3.mlp.gate_proj.weight")));
    }

    [Fact]
    public void Without_their_own_group_embeddings_share_the_first_layer_groups_values()
    {
        var space = new PsSpace(new PsConfig { LayerGroups = 2, EmbeddingsGroup = false }, null, ["a", "b"], 4);
        var recipe = Decode(space, new double[space.Dimension]);
        Assert.Equal(2, space.Groups.Count);
        Assert.Equal(0, recipe.GroupOf(Place("model.embed_tokens.weight")));
        Assert.Equal(1, recipe.GroupOf(Place("model.layers.2.mlp.up_proj.weight")));
    }

    [Fact]
    public void A_head_group_takes_the_final_norm_and_lm_head_away_from_the_embeddings()
    {
        var space = new PsSpace(new PsConfig { LayerGroups = 2, HeadGroup = true }, null, ["a", "b"], 4);
        Assert.Equal(["embeddings", "layers 0-1", "layers 2-3", "head"], space.Groups.Select(g => g.Name));
        var recipe = Decode(space, new double[space.Dimension]);
        Assert.Equal(0, recipe.GroupOf(Place("model.embed_tokens.weight")));
        Assert.Equal(3, recipe.GroupOf(Place("lm_head.weight")));
        Assert.Equal(3, recipe.GroupOf(Place("model.norm.weight")));
        Assert.Equal(2, recipe.GroupOf(Place("model.layers.3.self_attn.o_proj.weight")));

        var shared = new PsSpace(new PsConfig { LayerGroups = 2, HeadGroup = false }, null, ["a", "b"], 4);
        var sharedRecipe = Decode(shared, new double[shared.Dimension]);
        Assert.Equal(0, sharedRecipe.GroupOf(Place("lm_head.weight")));
        Assert.Equal(0, sharedRecipe.GroupOf(Place("model.norm.weight")));
    }

    [Fact]
    public void Encode_inverts_decode_within_the_ranges()
    {
        var config = new PsConfig { LayerGroups = 2, Ranges = new Dictionary<string, ParameterRange> { ["weight"] = new(0, 2) } };
        var space = new PsSpace(config, "base", ["a", "b"], 6);
        var genome = Enumerable.Range(0, space.Dimension).Select(i => (i * 7 % 11) / 10.0).Select(u => Math.Min(u, 1)).ToArray();
        var again = space.Encode(Decode(space, genome));
        for (int i = 0; i < genome.Length; i++) Assert.Equal(genome[i], again[i], 12);
        Assert.Equal(2 * genome[2], Decode(space, genome).Value(0, 1, "weight"), 12);   // weight range [0,2], not forced to sum to 1
    }

    [Fact]
    public void A_start_point_gives_every_group_each_models_values_and_the_default_is_the_middle()
    {
        Assert.Null(new PsSpace(new PsConfig { LayerGroups = 2 }, "base", ["a", "b"], 4).Initial);

        var config = new PsConfig
        {
            LayerGroups = 2, HeadGroup = true, Ranges = new Dictionary<string, ParameterRange> { ["weight"] = new(0, 2) },
            Start = [new Dictionary<string, double> { ["weight"] = 0, ["density"] = 1 }, new Dictionary<string, double> { ["weight"] = 0.5, ["density"] = 0.505 }],
        };
        var space = new PsSpace(config, "base", ["a", "b"], 4);
        // Per group: model a (weight 0 → 0, density 1 → 1), model b (0.5 of [0,2] → 0.25, 0.505 of [0.01,1] → 0.5).
        double[] perGroup = [0, 1, 0.25, 0.5];
        Assert.Equal(space.Groups.Count * 4, space.Initial!.Length);
        for (int i = 0; i < space.Initial.Length; i++) Assert.Equal(perGroup[i % 4], space.Initial[i], 12);
    }

    [Theory]
    [InlineData(1, 1.0, "ps.start: 1 entries for 2 models")]
    [InlineData(2, 3.0, "ps.start[0].weight: 3 is outside its range [0, 1]")]
    public void A_start_point_that_does_not_fit_the_space_is_a_config_error(int entries, double weight, string expected)
    {
        var start = Enumerable.Range(0, entries).Select(_ => (IReadOnlyDictionary<string, double>)new Dictionary<string, double> { ["weight"] = weight, ["density"] = 0.5 }).ToList();
        var e = Assert.Throws<EvoMergeException>(() => new PsSpace(new PsConfig { Start = start }, "base", ["a", "b"], 4));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void More_groups_than_layers_is_a_config_error()
    {
        var e = Assert.Throws<EvoMergeException>(() => new PsSpace(new PsConfig { LayerGroups = 5 }, null, ["a", "b"], 4));
        Assert.Contains("ps.layer_groups", e.Message);
    }
}
