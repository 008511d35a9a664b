using EvoMerge.Merge.Execution;
using EvoMerge.Merge.Output;
using EvoMerge.Merge.Recipes;

namespace EvoMerge.Tests.Merge;

/// <summary>
/// Keys mergekit accepts and ignores warn (file:line:column, nearest valid name) and the merge proceeds; strict
/// refuses them; a LoRA reference that is not there says so (model+lora folds: Lora/LoraFoldingTests; <c>modules:</c>: ModulesRecipeTests); chat templates by mergekit's
/// built-in names; and <c>check</c> never passes a recipe that <c>merge</c> refuses.
/// </summary>
public class RecipeCompatTests : IDisposable
{
    readonly RecipeRunner _run = new();

    public RecipeCompatTests()
    {
        var parent = TestModels.Write(_run.Root, "base", 1);
        TestModels.Write(_run.Root, "x", 2, related: parent);
        TestModels.Write(_run.Root, "y", 3, related: parent);
    }

    public void Dispose() => _run.Dispose();

    const string IgnoredKeys = """
        merge_method: sce
        base_model: {root}/base
        models:
          - model: {root}/x
            revision: main
          - model: {root}/y
        parameters:
          select_topk: 0.5
          smooth: false
          allow_negative_weights: false
        select_topk: 0.5
        dype: float32
        """;

    [Fact]
    public void Keys_mergekit_ignores_warn_with_position_and_nearest_name_and_the_merge_proceeds()
    {
        using (var planned = _run.Plan(IgnoredKeys))
        {
            string[] expected =
            [
                "recipe.yml:5:5: models: 'revision' is ignored, as current mergekit ignores it; write the revision into the name (model: name@revision)",
                "recipe.yml:11:1: top-level 'select_topk' is ignored, as mergekit ignores it; parameters go under 'parameters:' (parameters.select_topk)",
                "recipe.yml:12:1: unknown field 'dype' is ignored, as mergekit ignores it (did you mean 'dtype'?)",
            ];
            foreach (string w in expected) Assert.Contains(planned.Warnings, x => x == Path.Combine(_run.Root, w));
            Assert.Contains(planned.Warnings, w => w.StartsWith(Path.Combine(_run.Root, "recipe.yml:9:11: unknown parameter 'smooth' for sce is ignored"), StringComparison.Ordinal));
            Assert.Contains(planned.Warnings, w => w.StartsWith(Path.Combine(_run.Root, "recipe.yml:10:27: unknown parameter 'allow_negative_weights' for sce is ignored"), StringComparison.Ordinal));
        }
        string output = _run.Merge(IgnoredKeys);
        Assert.True(File.Exists(Path.Combine(output, "model.safetensors")));
    }

    [Fact]
    public void Strict_option_or_key_turns_the_warnings_into_errors()
    {
        _run.Plan(IgnoredKeys).Dispose();
        var e = Assert.Throws<EvoMergeException>(() => RecipePlanner.Plan(RecipeParser.Load(_run.RecipePath), strict: true));
        Assert.Contains("recipe.yml:11:1: top-level 'select_topk' is ignored", e.Message);
        Assert.Contains("strict: warnings are errors; 4 more", e.Message);
        e = Assert.Throws<EvoMergeException>(() => _run.Plan(IgnoredKeys + "\nstrict: true\n").Dispose());
        Assert.Contains("strict: warnings are errors", e.Message);
    }

    [Fact]
    public void Missing_lora_of_a_reference_says_where_it_looked()
    {
        var e = Assert.Throws<EvoMergeException>(() => _run.Plan("""
            merge_method: task_arithmetic
            base_model: {root}/base
            models:
              - model: {root}/x+org/llama-3-abliterated-lora
                parameters: {weight: 1}
            """).Dispose());
        Assert.Contains("recipe.yml:4:", e.Message);
        Assert.Contains("model: LoRA 'org/llama-3-abliterated-lora' is neither a local path nor in the Hugging Face cache", e.Message);
    }

    [Theory]
    [InlineData("alpaca", "### Instruction:")]
    [InlineData("chatml", "<|im_start|>")]
    [InlineData("llama3", "<|start_header_id|>")]
    [InlineData("mistral", "[INST]")]
    [InlineData("exaone", "[|endofturn|]")]
    [InlineData("\"{% for m in messages %}{{ m['content'] }}{% endfor %}\"", "{% for m in messages %}")]
    public void Chat_template_names_and_inline_jinja_are_written(string value, string marker)
    {
        string output = _run.Merge($"merge_method: linear\nmodels:\n  - model: {{root}}/x\n    parameters: {{weight: 1}}\n  - model: {{root}}/y\n    parameters: {{weight: 1}}\nchat_template: {value}\n");
        Assert.Contains(marker, File.ReadAllText(Path.Combine(output, "chat_template.jinja")));
    }

    [Fact]
    public void Chat_template_auto_keeps_the_tokenizers_and_unknown_names_fail_at_check()
    {
        string output = _run.Merge("merge_method: linear\nmodels:\n  - model: {root}/x\n    parameters: {weight: 1}\nchat_template: auto\n");
        Assert.False(File.Exists(Path.Combine(output, "chat_template.jinja")));
        var e = Assert.Throws<EvoMergeException>(() => _run.Plan("merge_method: linear\nmodels:\n  - model: {root}/x\nchat_template: alpaka\n").Dispose());
        Assert.Contains("recipe.yml:4:16: chat_template: 'alpaka' is neither a built-in name", e.Message);
        Assert.Contains("(did you mean 'alpaca'?)", e.Message);
        e = Assert.Throws<EvoMergeException>(() => _run.Plan("merge_method: linear\nmodels:\n  - model: {root}/x\nchat_template: \"{% for m in messages %}{{ m }\"\n").Dispose());
        Assert.Contains("unbalanced", e.Message);
    }

    /// <summary>Hostile variants: each is something a user writes by mistake or a file built to break the reader.</summary>
    static readonly string[] Hostile =
    [
        "merge_method: linear\nmodels:\n  - model: {root}/x\nchat_template: alpaka\n",
        "merge_method: linear\nmodels:\n  - model: {root}/x\nchat_template: \"{{ oops\"\n",
        "merge_method: ties\nmodels:\n  - model: {root}/x\n    parameters: {weight: 1}\n",
        "merge_method: tiez\nbase_model: {root}/base\nmodels:\n  - model: {root}/x\n",
        "merge_method: linear\nmodels:\n  - model: {root}/missing\n",
        "merge_method: passthrough\nslices:\n  - sources:\n    - model: {root}/x\n      layer_range: [0, 9]\n",
        "merge_method: linear\nmodels:\n  - model: {root}/x\n    parameters: {weight: .nan}\n",
        "merge_method: ties\nbase_model: {root}/base\nmodels:\n  - model: {root}/x\n    parameters: {weight: 1, density: 1.5}\n",
        "merge_method: slerp\nbase_model: {root}/base\nmodels:\n  - model: {root}/x\n  - model: {root}/y\nparameters: {t: 0.5}\n",
        "merge_method: linear\nmodels:\n  - model: {root}/x\n    parameters: {weight: 1}\n  - model: {root}/y\n    parameters: {weight: 1}\ntokenizer_source: {root}/nope\n",
        "merge_method: linear\nmodels:\n  - model: {root}/x\n    parameters: {weight: 1}\ndtype: float8\n",
        "merge_method: linear\nmodels:\n  - model: {root}/x\ncompat: mergekitt\n",
        "merge_method: linear\nmodels: {root}/x\n",
        "merge_method: linear\nstrict: maybe\nmodels:\n  - model: {root}/x\n",
        "merge_method: nuslerp\nmodels:\n  - model: {root}/x\n    parameters: {weight: 1}\n  - model: {root}/y\n    parameters: {weight: -1}\n",
        "[unclosed",
    ];

    public static IEnumerable<object[]> AllRecipes() =>
        Hostile.Select((h, i) => new object[] { $"hostile {i}", h })
            .Concat(Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Fixtures", "recipes"), "*.yml").Order()
                .Select(f => new object[] { Path.GetFileName(f), File.ReadAllText(f) }));

    [Theory]
    [MemberData(nameof(AllRecipes))]
    public void Nothing_merge_refuses_passes_check(string label, string yaml)
    {
        RecipeReferenceTests.WriteModels(_run, yaml);
        string? checkError = null, mergeError = null;
        try { _run.Plan(yaml).Dispose(); } catch (EvoMergeException e) { checkError = e.Message; }
        try
        {
            using var planned = _run.Plan(yaml);
            MergedModelWriter.Write(planned, Path.Combine(_run.Root, "out-" + Guid.NewGuid().ToString("N")), new MergeOptions { Threads = 1 });
        }
        catch (EvoMergeException e) { mergeError = e.Message; }
        Assert.True(checkError != null || mergeError == null, $"{label}: check passed but merge refused: {mergeError}");
        if (!label.StartsWith("hostile", StringComparison.Ordinal)) Assert.True(mergeError == null, $"{label}: {mergeError}");
        else Assert.NotNull(checkError);
    }
}
