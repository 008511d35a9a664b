using EvoMerge.TestSupport;
using System.Text.Json;
using System.Text.RegularExpressions;
using EvoMerge.Merge.Methods;

namespace EvoMerge.Tests.Merge;

/// <summary>
/// Published mergekit recipes (Fixtures/recipes/*.yml, written as their model cards and mergekit's examples/ give
/// them, model names pointed at small generated sibling models) merged by EvoMerge in both compat modes and
/// compared tensor by tensor with recipe_reference.py, an independent numpy reading of mergekit's planning over
/// methods_reference.py's arithmetic.
/// </summary>
public partial class RecipeReferenceTests
{
    static string RecipeFolder => Path.Combine(AppContext.BaseDirectory, "Fixtures", "recipes");

    public static IEnumerable<object[]> Recipes() =>
        Directory.GetFiles(RecipeFolder, "*.yml").Order().SelectMany(f => new[] { MergeCompat.Mergekit, MergeCompat.Paper }
            .Select(c => new object[] { Path.GetFileNameWithoutExtension(f), c }));

    [GeneratedRegex(@"\{root\}/([A-Za-z0-9_.\-]+)")]
    private static partial Regex ModelName();

    /// <summary>Writes every model the recipe names as a fine-tune of one shared parent (merges combine siblings).</summary>
    internal static void WriteModels(RecipeRunner run, string yaml)
    {
        var parent = TestModels.Write(run.Root, "_parent", 1);
        int seed = 2;
        foreach (string name in ModelName().Matches(yaml).Select(m => m.Groups[1].Value).Distinct())
            TestModels.Write(run.Root, name, seed++, related: parent);
    }

    /// <summary>Runs recipe_reference.py on the recipe at <paramref name="recipePath"/>; tensor name → values.</summary>
    internal static Dictionary<string, double[]> Reference(string recipePath, MergeCompat compat, ulong seed = 0)
    {
        string script = Path.Combine(AppContext.BaseDirectory, "Fixtures", "merge", "recipe_reference.py");
        string json = recipePath + ".reference.json";
        var (code, _, stderr) = PythonReference.Run($"{script} {recipePath} {json} {compat.ToString().ToLowerInvariant()} {seed}", TimeSpan.FromMinutes(2));
        Assert.True(code == 0, stderr);
        return JsonSerializer.Deserialize<Dictionary<string, double[]>>(File.ReadAllText(json))!;
    }

    /// <summary>Every tensor of the output against the reference; half-precision outputs within their rounding.</summary>
    internal static void AssertMatches(Dictionary<string, double[]> expected, Dictionary<string, float[]> actual, string what)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, e) in expected)
        {
            float[] a = actual[name];
            Assert.Equal(e.Length, a.Length);
            for (int i = 0; i < e.Length; i++)
                Assert.True(Math.Abs(e[i] - a[i]) <= 2e-5 + 4e-3 * Math.Abs(e[i]), $"{what}: {name}[{i}] expected {e[i]}, got {a[i]}");
        }
    }

    [PythonReferenceTheory("numpy", "yaml")]
    [MemberData(nameof(Recipes))]
    public void Published_recipe_matches_numpy_reference_of_mergekit(string recipe, MergeCompat compat)
    {
        using var run = new RecipeRunner();
        string yaml = File.ReadAllText(Path.Combine(RecipeFolder, recipe + ".yml"));
        WriteModels(run, yaml);
        string output = run.Merge(yaml, compat: compat);
        var (model, tensors) = TestModels.Read(output);
        using (model)
            AssertMatches(Reference(run.RecipePath, compat), tensors, $"{recipe} ({compat})");
    }
}

public class GradientOutsideLayersTests
{
    [PythonReferenceTheory("numpy", "yaml")]
    [InlineData(MergeCompat.Mergekit)]
    [InlineData(MergeCompat.Paper)]
    public void Ties_gradient_gives_final_norm_and_head_the_last_slices_sources_at_t_zero(MergeCompat compat)
    {
        using var run = new RecipeRunner();
        string yaml = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "recipes", "mergekit-examples-ties.yml"));
        RecipeReferenceTests.WriteModels(run, yaml);
        var (model, tensors) = TestModels.Read(run.Merge(yaml, compat: compat));
        var atZero = RecipeReferenceTests.Reference(run.RecipePath, compat);
        // The same recipe with each gradient replaced by its last value is what t = 1 would give: it must differ,
        // or the comparison could not tell the rules apart.
        string atOneYaml = yaml.Replace("[1, 0.7, 0.1]", "0.1").Replace("[0, 0.3, 0.7, 1]", "1");
        File.WriteAllText(Path.Combine(run.Root, "at-one.yml"), atOneYaml.Replace("{root}", run.Root));
        var atOne = RecipeReferenceTests.Reference(Path.Combine(run.Root, "at-one.yml"), compat);
        using (model)
            foreach (string name in new[] { "model.norm.weight", "lm_head.weight", "model.embed_tokens.weight" })
            {
                RecipeReferenceTests.AssertMatches(new() { [name] = atZero[name] }, new() { [name] = tensors[name] }, $"{name} ({compat})");
                Assert.True(atZero[name].Zip(atOne[name], (a, b) => Math.Abs(a - b)).Max() > 1e-3, $"{name}: t = 0 and t = 1 give the same values");
            }
    }
}
