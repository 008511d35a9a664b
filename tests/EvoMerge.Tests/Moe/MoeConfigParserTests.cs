using EvoMerge.Moe;

namespace EvoMerge.Tests.Moe;

/// <summary>mergekit-moe's config format: defaults, spellings, warnings and refusals with file:line:column.</summary>
public sealed class MoeConfigParserTests
{
    [Fact]
    public void Reads_fields_with_mergekits_defaults()
    {
        var c = MoeConfigParser.Parse("""
            base_model: org/base
            experts:
              - source_model: {model: a}
                positive_prompts: ["p1", ""]
              - source_model: b
                positive_prompts:
                  - p2
                negative_prompts: [n]
                residual_scale: 0.5
            """, "moe.yml");
        Assert.Equal("org/base", c.BaseModel);
        Assert.Equal(GateMode.Hidden, c.GateMode);   // mergekit's default
        Assert.Equal(2, c.ExpertsPerToken);          // mergekit's default
        Assert.Null(c.Dtype);
        Assert.Equal(["a", "b"], c.Experts.Select(e => e.SourceModel));
        Assert.Equal(["p1", ""], c.Experts[0].PositivePrompts);
        Assert.Equal(["n"], c.Experts[1].NegativePrompts);
        Assert.Equal(0.5, c.Experts[1].ResidualScale);
        Assert.Null(c.Experts[0].NoiseScale);
        Assert.Equal("moe.yml:3:19", c.Experts[0].Mark.ToString());   // the {model: a} mapping
        Assert.Empty(c.Warnings);
    }

    [Theory]
    [InlineData("hidden", GateMode.Hidden)]
    [InlineData("hidden_last", GateMode.Hidden)]
    [InlineData("hidden_avg", GateMode.HiddenAvg)]
    [InlineData("cheap_embed", GateMode.CheapEmbed)]
    [InlineData("random", GateMode.Random)]
    [InlineData("uniform_random", GateMode.UniformRandom)]
    public void Accepts_mergekits_gate_modes(string text, GateMode mode) =>
        Assert.Equal(mode, MoeConfigParser.Parse($"base_model: b\ngate_mode: {text}\nexperts_per_token: 1\nexperts:\n  - source_model: a\n    positive_prompts: [x]\n", "m.yml").GateMode);

    [Fact]
    public void Random_gates_need_no_prompts_and_unknown_fields_warn()
    {
        var c = MoeConfigParser.Parse("base_model: b\ngate_mode: random\nexpert_per_token: 1\nexperts:\n  - source_model: a\n  - source_model: c\n    noise: 1\n", "m.yml");
        Assert.Equal(2, c.Experts.Count);
        Assert.Equal(2, c.Warnings.Count);
        Assert.StartsWith("m.yml:3:1: unknown field 'expert_per_token' is ignored", c.Warnings[0]);
        Assert.Contains("(did you mean 'experts_per_token'?)", c.Warnings[0]);
        Assert.StartsWith("m.yml:7:5: experts[1]: unknown field 'noise'", c.Warnings[1]);
    }

    [Theory]
    [InlineData("base_model: b\ngate_mode: cheap\nexperts: [{source_model: a, positive_prompts: [x]}]", "m.yml:2:12: gate_mode: unknown mode 'cheap'")]
    [InlineData("gate_mode: random\nexperts: [{source_model: a}]", "m.yml:1:1: base_model is missing")]
    [InlineData("base_model: b\nexperts: []", "m.yml:2:10: experts: expected a non-empty list")]
    [InlineData("base_model: b\nexperts_per_token: 0\nexperts: [{source_model: a, positive_prompts: [x]}]", "m.yml:2:20: experts_per_token: expected a whole number of at least 1")]
    [InlineData("base_model: b\nexperts: [{source_model: a, positive_prompts: [x]}]", "m.yml:2:10: experts_per_token is 2 but there are only 1 expert(s)")]
    [InlineData("base_model: b\nexperts:\n  - source_model: a\n    positive_prompts: [x]\n  - source_model: c\n", "m.yml:5:5: experts[1]: no positive_prompts; gate_mode hidden")]
    [InlineData("base_model: b\ngate_mode: cheap_embed\nexperts:\n  - {source_model: a, positive_prompts: [x], negative_prompts: [y]}\n  - {source_model: c, positive_prompts: [x], negative_prompts: [y]}\n", "m.yml:4:3: every expert has the same positive and negative prompts")]
    [InlineData("base_model: b\ndtype: int8\ngate_mode: random\nexperts_per_token: 1\nexperts: [{source_model: a}]", "m.yml:2:8: dtype: expected float32, bfloat16 or float16")]
    [InlineData("base_model: b\narchitecture: qwen\ngate_mode: random\nexperts_per_token: 1\nexperts: [{source_model: a}]", "m.yml:2:15: architecture: 'qwen' is not supported")]
    [InlineData("base_model: b\ngate_mode: random\nexperts_per_token: 1\nexperts: [{source_model: a, noise_scale: .nan}]", "m.yml:4:42: experts[0].noise_scale: expected a finite number")]
    [InlineData("base_model: b\n---\nbase_model: c\n", "m.yml:3:1: a second YAML document")]
    public void Refuses_with_file_line_and_field(string yaml, string expected)
    {
        var e = Assert.Throws<EvoMergeException>(() => MoeConfigParser.Parse(yaml, "m.yml"));
        Assert.StartsWith(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
