using System.Globalization;
using EvoMerge.Merge.Execution;
using EvoMerge.Merge.Output;
using EvoMerge.Merge.Recipes;

namespace EvoMerge.Tests.Merge;

/// <summary>
/// Issue 10 item 1: merges of different recipes into one out-dir, started together. Exactly one wins; its folder is
/// byte for byte what its recipe gives when run alone (weights and mergekit_config.yml); the others fail with the
/// project's error; nothing else is left beside it.
/// </summary>
public class ConcurrentMergeTests : IDisposable
{
    readonly RecipeRunner _run = new();

    public ConcurrentMergeTests()
    {
        var b = TestModels.Write(_run.Root, "base", 1, layers: 2);
        TestModels.Write(_run.Root, "x", 2, layers: 2, related: b);
    }

    public void Dispose() => _run.Dispose();

    static string Recipe(int i) => string.Create(CultureInfo.InvariantCulture, $"""
        models:
          - model: {"{root}"}/base
            parameters: {"{"}weight: {0.1 + 0.2 * i}{"}"}
          - model: {"{root}"}/x
            parameters: {"{"}weight: {0.9 - 0.2 * i}{"}"}
        merge_method: linear
        """);

    [Fact]
    public void Two_to_four_merges_into_one_folder_one_wins_entirely()
    {
        const int maxWriters = 4;
        var planned = new PlannedRecipe[maxWriters];
        var alone = new byte[maxWriters][];
        for (int i = 0; i < maxWriters; i++)
        {
            string recipe = Path.Combine(_run.Root, $"recipe{i}.yml");
            File.WriteAllText(recipe, Recipe(i).Replace("{root}", _run.Root));
            planned[i] = RecipePlanner.Plan(RecipeParser.Load(recipe));
            string solo = Path.Combine(_run.Root, $"solo{i}");
            MergedModelWriter.Write(planned[i], solo, new MergeOptions { Threads = 1 });
            alone[i] = File.ReadAllBytes(Path.Combine(solo, "model.safetensors"));
        }
        Assert.Equal(maxWriters, alone.Select(Convert.ToBase64String).Distinct().Count()); // the recipes differ in their output

        var random = new Random(11);
        try
        {
            for (int round = 0; round < 20; round++)
            {
                int writers = random.Next(2, maxWriters + 1);
                string target = Path.Combine(_run.Root, $"race{round}");
                using var start = new Barrier(writers);
                var failures = new Exception?[writers];
                var threads = Enumerable.Range(0, writers).Select(w => new Thread(() =>
                {
                    start.SignalAndWait();
                    try { MergedModelWriter.Write(planned[w], target, new MergeOptions { Threads = 1 }); }
                    catch (Exception e) { failures[w] = e; }
                })).ToList();
                threads.ForEach(t => t.Start());
                threads.ForEach(t => t.Join());

                int winner = Assert.Single(Enumerable.Range(0, writers), w => failures[w] == null);
                foreach (var e in failures.Where(e => e != null)) Assert.IsType<EvoMergeException>(e);
                Assert.Equal(alone[winner], File.ReadAllBytes(Path.Combine(target, "model.safetensors")));
                Assert.Equal(planned[winner].Recipe.Text, File.ReadAllText(Path.Combine(target, "mergekit_config.yml")));
            }
        }
        finally
        {
            foreach (var p in planned) p.Dispose();
        }
        // Only the finished folders: no partial folder of a loser is left.
        Assert.DoesNotContain(Directory.GetFileSystemEntries(_run.Root), e => e.Contains(EvoMerge.IO.OutputFolder.PartialInfix));
    }
}
