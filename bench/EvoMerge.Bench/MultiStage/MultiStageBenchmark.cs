using System.Diagnostics;
using System.Globalization;
using EvoMerge.Bench.Merge;
using EvoMerge.Merge;
using EvoMerge.Merge.Execution;
using EvoMerge.Merge.MultiStage;
using EvoMerge.Merge.Recipes;

namespace EvoMerge.Bench.MultiStage;

/// <summary>
/// `multi-stage [dir] [parameters=1e9] [threads]`: what streaming an intermediate into its only consumer could save.
/// Runs a two-stage recipe (linear of a and b → ties of base, that, a) on generated bf16 models and prints side by
/// side: each stage as `merge` runs it (written, fsynced, renamed; the second stage reading the first from the page
/// cache), the first stage merged into a target that discards the values (its arithmetic and input reads alone),
/// and a re-run that reuses the intermediate. The written-minus-discarded difference bounds what in-memory
/// streaming would save; the re-run shows what writing buys.
/// </summary>
public sealed class MultiStageBenchmark : IBenchmark
{
    public string Name => "multi-stage";
    public string Description => "cost of writing a multi-stage recipe's intermediate vs streaming it (two-stage chain)";

    sealed class Discard : IMergeBlockTarget
    {
        public void Accept(string name, ReadOnlySpan<long> shape, ReadOnlySpan<float> values) { }
        public void AcceptBlock(string name, ReadOnlySpan<long> shape, long elementOffset, ReadOnlySpan<float> values) { }
    }

    public void Run(string[] args)
    {
        string dir = args.Length > 0 ? args[0] : Path.Combine(Path.GetTempPath(), "evomerge-bench-models");
        double parameters = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 1e9;
        int threads = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : Environment.ProcessorCount;
        Directory.CreateDirectory(dir);
        var set = BenchModels.Ensure(dir, BenchModels.Shape.Small(parameters));
        BenchModels.Warm([set.Base, set.A, set.B]);
        string recipePath = Path.Combine(dir, "multi-stage.yml");
        File.WriteAllText(recipePath, $"""
            name: blend
            merge_method: linear
            models:
              - {"{"}model: {set.A}, parameters: {"{"}weight: 0.5{"}"}{"}"}
              - {"{"}model: {set.B}, parameters: {"{"}weight: 0.5{"}"}{"}"}
            dtype: bfloat16
            ---
            name: final
            merge_method: ties
            base_model: {set.Base}
            models:
              - {"{"}model: blend, parameters: {"{"}weight: 0.5, density: 0.5{"}"}{"}"}
              - {"{"}model: {set.A}, parameters: {"{"}weight: 0.5, density: 0.5{"}"}{"}"}
            dtype: bfloat16
            """);
        string stages = Path.Combine(dir, "multi-stages"), out1 = Path.Combine(dir, "multi-out1"), out2 = Path.Combine(dir, "multi-out2");
        foreach (var d in new[] { stages, out1, out2 }) if (Directory.Exists(d)) Directory.Delete(d, recursive: true);
        var recipe = MultiStageRecipe.Load(recipePath);
        var options = new MergeOptions { Seed = 1, Threads = threads };

        var times = new List<(string, double)>();
        var clock = Stopwatch.StartNew();
        MultiStageRunner.Run(recipe, out1, stages, null, false, options, onStage: o => { times.Add(($"stage {o.Stage.Name} ({o.Status.ToString().ToLowerInvariant()})", clock.Elapsed.TotalSeconds)); clock.Restart(); });
        clock.Restart();
        MultiStageRunner.Run(recipe, out2, stages, null, false, options, onStage: o => { times.Add(($"re-run: stage {o.Stage.Name} ({o.Status.ToString().ToLowerInvariant()})", clock.Elapsed.TotalSeconds)); clock.Restart(); });
        using (var planned = RecipePlanner.Plan(recipe.Stages[0].Recipe))
        {
            clock.Restart();
            MergeExecutor.Run(planned.Plan, planned.Parameters, new Discard(), options with { Compat = planned.Compat });
            times.Add(("stage blend into a discarding target", clock.Elapsed.TotalSeconds));
        }
        Console.WriteLine($"models: {set.Parameters / 1e9:0.00} B parameters bf16 ({set.BytesPerModel / 1e9:0.00} GB each), {threads} threads");
        foreach (var (what, seconds) in times) Console.WriteLine($"{what,-44}{seconds,8:0.00} s");
        double written = times[0].Item2, discarded = times[^1].Item2;
        Console.WriteLine($"writing the intermediate costs {written - discarded:0.00} s of {written + times[1].Item2:0.00} s (streaming would save at most this, and lose reuse)");
    }
}
