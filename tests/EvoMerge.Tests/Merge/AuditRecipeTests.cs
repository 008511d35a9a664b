using EvoMerge.Evolution.Config;
using EvoMerge.Merge.Recipes;
using EvoMerge.Tests.IO;

namespace EvoMerge.Tests.Merge;

/// <summary>
/// Issue 10's audit of recipes and evolve.yml, one regression test per item: self-referential aliases and deep nesting
/// (3), FIFOs and devices (5, 6), catastrophic regexes (7), invalid regexes and huge populations (8), chat_template
/// (10), list or scalar roots (11), several documents (12). Each asserts the specific clean error, under a time bound.
/// </summary>
public class AuditRecipeTests : IDisposable
{
    readonly RecipeRunner _run = new();

    public AuditRecipeTests()
    {
        var b = TestModels.Write(_run.Root, "base", 1, layers: 2);
        TestModels.Write(_run.Root, "x", 2, layers: 2, related: b);
    }

    public void Dispose() => _run.Dispose();

    string Fails(string yaml) => AuditIoTests.FailsCleanly(() => _run.Plan(yaml).Dispose()).Message;

    [Theory]
    [InlineData("models:\n  - &e {model: *e}\nmerge_method: linear\n", "recipe.yml:2:16: alias *e is inside the node it names (a cycle)")]
    [InlineData("models:\n  - model: {root}/x\n    parameters:\n      weight: &w [{filter: a, value: *w}]\nmerge_method: linear\n",
        "recipe.yml:4:38: alias *w is inside the node it names (a cycle)")]
    public void Item3_a_self_referential_alias_is_a_clean_error(string yaml, string expected)
    {
        string m = Fails(yaml);
        Assert.True(m.Contains(expected), m);
    }

    [Theory]
    [InlineData(30_000)]
    [InlineData(65)]
    public void Item3_deep_nesting_is_a_clean_error(int depth)
    {
        string m = Fails("merge_method: linear\nparameters: {weight: " + new string('[', depth) + new string(']', depth) + "}\n");
        Assert.Contains("recipe.yml:2:", m);
        Assert.Contains("nesting deeper than 64 levels", m);
    }

    [Fact]
    public void Item3_alias_expansion_is_bounded()
    {
        // A "billion laughs": each level doubles ten times over.
        var yaml = new System.Text.StringBuilder("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for (int i = 1; i < 9; i++) yaml.Append($"a{i}: &a{i} [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 10))}]\n");
        Assert.Contains("more than 100000 YAML nodes once aliases are expanded", Fails(yaml.ToString()));
    }

    [Fact]
    public void Item5_a_fifo_as_the_recipe_is_refused_without_blocking()
    {
        string fifo = Path.Combine(_run.Root, "fifo.yml");
        AuditIoTests.MakeFifo(fifo);
        var e = AuditIoTests.FailsCleanly(() => RecipeParser.Load(fifo));
        Assert.Contains("fifo.yml: not a regular file (a FIFO, device or socket)", e.Message);
        e = AuditIoTests.FailsCleanly(() => EvolutionConfigReader.ReadFile(fifo));
        Assert.Contains("fifo.yml: not a regular file", e.Message);
    }

    [Fact]
    public void Item6_dev_zero_as_evolve_yml_is_refused()
    {
        var e = AuditIoTests.FailsCleanly(() => EvolutionConfigReader.ReadFile("/dev/zero"));
        Assert.Contains("/dev/zero: not a regular file", e.Message);
    }

    [Fact]
    public void Item7_a_catastrophic_regex_filter_runs_in_linear_time()
    {
        // With backtracking this pattern takes exponential time on ordinary tensor names; it must simply not match.
        using var planned = _run.Plan("""
            models:
              - model: {root}/base
                parameters: {weight: 0.5}
              - model: {root}/x
                parameters:
                  weight:
                    - filter: "re:^(([a-z0-9_]+\\.?)+)+[A-Z]$"
                      value: 0.3
                    - value: 0.7
            merge_method: linear
            """);
        string name = "model.layers.1.self_attn.q_proj.weight_with_a_long_suffix_that_makes_backtracking_explode";
        var filter = new TensorFilter("re:^(([a-z0-9_]+\\.?)+)+[A-Z]$");
        Assert.False(WithinTime(() => filter.Matches(name)));
    }

    static bool WithinTime(Func<bool> f)
    {
        var task = Task.Run(f);
        Assert.True(task.Wait(TimeSpan.FromSeconds(20)), "hung for 20 s");
        return task.Result;
    }

    [Fact]
    public void Item8_an_invalid_regex_filter_names_its_line()
    {
        string m = Fails("""
            models:
              - model: {root}/x
                parameters:
                  weight:
                    - filter: "re:(unclosed"
                      value: 1
            merge_method: linear
            """);
        Assert.Contains("recipe.yml:5:19: filter: 're:(unclosed' is not a valid regular expression", m);
    }

    [Fact]
    public void Item8_a_population_of_a_billion_is_a_clean_error()
    {
        var e = AuditIoTests.FailsCleanly(() => EvolutionConfigReader.Parse(
            "name: n\nmodels: [a, b]\nfitness: [{ task: mgsm, data: d }]\noptimizer: { population: 1000000000, generations: 2 }\n", "evolve.yml", "/"));
        Assert.Contains("evolve.yml: 'optimizer.population' must be from 2 to 100000", e.Message);
    }

    [Fact]
    public void Item3_evolve_yml_nested_100000_deep_is_a_clean_error()
    {
        var e = AuditIoTests.FailsCleanly(() => EvolutionConfigReader.Parse(
            "name: n\nmodels: " + new string('[', 100_000) + new string(']', 100_000) + "\n", "evolve.yml", "/"));
        Assert.Contains("evolve.yml:2:", e.Message);
        Assert.Contains("nesting deeper than 64 levels", e.Message);
    }

    [Fact]
    public void Item10_a_garbage_chat_template_fails_check_with_its_line()
    {
        string m = Fails("""
            models:
              - model: {root}/x
            merge_method: linear
            chat_template: garbage
            """);
        Assert.Contains("recipe.yml:4:16: chat_template: 'garbage' is neither a built-in name", m);
    }

    [Theory]
    [InlineData("- merge_method: linear\n", "recipe.yml:1:1: expected a mapping with merge_method, models or slices, ..., found a list")]
    [InlineData("\n\n  just a scalar\n", "recipe.yml:3:3: expected a mapping with merge_method, models or slices, ..., found a single value")]
    public void Item11_a_list_or_scalar_root_names_its_line(string yaml, string expected) =>
        Assert.Contains(expected, Fails(yaml));

    [Fact]
    public void Item12_a_second_document_is_refused_not_ignored()
    {
        string m = Fails("""
            models:
              - model: {root}/x
            merge_method: linear
            ---
            models:
              - model: {root}/base
            merge_method: linear
            """);
        Assert.Contains("recipe.yml:5:1: a second YAML document ('---'); multi-stage recipes are not supported", m);
        var e = AuditIoTests.FailsCleanly(() => EvolutionConfigReader.Parse("name: n\n---\nname: m\n", "evolve.yml", "/"));
        Assert.Contains("evolve.yml:3:1: a second YAML document; an evolution config is one document", e.Message);
    }

    [Fact]
    public void Field_names_must_be_plain_text()
    {
        Assert.Contains("recipe.yml:1:3: a field name must be plain text, not a list or mapping", Fails("? [a, b]\n: 1\nmerge_method: linear\n"));
    }
}
