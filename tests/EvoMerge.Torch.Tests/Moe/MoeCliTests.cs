using EvoMerge.Torch.Tests.Parity;
using static EvoMerge.Torch.Tests.Cli.CliRunner;

namespace EvoMerge.Torch.Tests.Moe;

/// <summary><c>evomerge moe</c> through the real entry point: a folder <c>generate</c> opens, and one-line refusals of bad configs.</summary>
public sealed class MoeCliTests : IDisposable
{
    readonly MoeModels models = new();

    public void Dispose() => models.Dispose();

    [Fact]
    public void Moe_output_opens_in_generate()
    {
        string moe = models.Path("moe");
        var (code, stdout, err) = Run("moe", models.Config("cli", "hidden", 2, ["ft1", "ft2", "ft3"]), moe);
        Assert.True(code == 0, err);
        Assert.Contains("Mixtral, 2 layers × 3 experts (2 per token)", stdout);
        (code, stdout, err) = Run("generate", moe, "abc", "--max-new-tokens", "4", "--json");
        Assert.True(code == 0, err);
        using var json = System.Text.Json.JsonDocument.Parse(stdout);
        Assert.InRange(json.RootElement.GetProperty("ids").GetArrayLength(), 1, 4);   // greedy; stops early only at EOS
    }

    public static TheoryData<string, string, string> BadConfigs => new()
    {
        { "gate_mode: hiden", "gate_mode: unknown mode 'hiden'; expected one of", "(did you mean 'hidden'?)" },
        { "experts_per_token: 3", "experts_per_token is 3 but there are only 2 expert(s)", "bad.yml:" },
        { "expert 1 without prompts", "experts[1]: no positive_prompts ('positve_prompts' is not a field (did you mean 'positive_prompts'?))", "bad.yml:" },
        { "same prompts", "every expert has the same positive and negative prompts", "bad.yml:" },
        { "expert of other shape", "tensor 'model.layers.0.mlp.gate_proj.weight' is [128, 64] but the base's is [96, 64]", "bad.yml:" },
        { "one model twice", "every expert is the same model", "--allow-identical-experts" },
        { "shared_experts", "shared_experts: the Mixtral output has no shared experts", "bad.yml:" },
    };

    [Theory]
    [MemberData(nameof(BadConfigs))]
    public void Bad_configs_fail_with_one_line_naming_file_and_field(string change, string expected, string alsoExpected)
    {
        RandomLlamaModel.WriteFolder(models.Path("wide"),
            RandomLlamaModel.Create(seed: 30, config: RandomLlamaModel.Config with { IntermediateSize = 128 }));
        string Expert(string model, string prompt, string field = "positive_prompts") =>
            $"  - source_model: {models.Path(model)}\n    {field}: [\"{prompt}\"]\n";
        string yaml = change switch
        {
            "gate_mode: hiden" => Yaml("hiden", 2, Expert("ft1", "a") + Expert("ft2", "b")),
            "experts_per_token: 3" => Yaml("hidden", 3, Expert("ft1", "a") + Expert("ft2", "b")),
            "expert 1 without prompts" => Yaml("hidden", 2, Expert("ft1", "a") + Expert("ft2", "b", "positve_prompts")),
            "same prompts" => Yaml("cheap_embed", 2, Expert("ft1", "a") + Expert("ft2", "a")),
            "expert of other shape" => Yaml("random", 2, Expert("ft1", "a") + Expert("wide", "b")),
            "one model twice" => Yaml("random", 2, Expert("ft1", "a") + Expert("ft1", "b")),
            "shared_experts" => Yaml("random", 2, Expert("ft1", "a") + Expert("ft2", "b")) + "shared_experts:\n" + Expert("ft3", "c"),
            _ => throw new ArgumentException(change),
        };
        string config = models.Path("bad.yml"), output = models.Path("out");
        File.WriteAllText(config, yaml);
        var (code, _, err) = Run("moe", config, output);
        Assert.Equal(1, code);
        var line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line);
        Assert.Contains(expected, line);
        Assert.Contains(alsoExpected, line);
        Assert.False(Directory.Exists(output));
        Assert.Empty(Directory.GetDirectories(models.Dir, "out*"));
    }

    string Yaml(string gateMode, int perToken, string experts) =>
        $"base_model: {models.Path("base")}\ngate_mode: {gateMode}\nexperts_per_token: {perToken}\nexperts:\n{experts}";
}
