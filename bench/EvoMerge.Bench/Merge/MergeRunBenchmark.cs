using EvoMerge.Merge.Execution;
using EvoMerge.Merge.Output;
using EvoMerge.Merge.Recipes;

namespace EvoMerge.Bench.Merge;

/// <summary>`merge-run recipe.yml out-dir threads`: one merge in this process, then its peak RSS, CPU time (whole process and merge alone) and widest kernel tier (for `merge`).</summary>
public sealed class MergeRunBenchmark : IBenchmark
{
    public string Name => "merge-run";
    public string Description => "one recipe merge, printing peak RSS (used by the merge benchmark)";

    public void Run(string[] args)
    {
        using var planned = RecipePlanner.Plan(RecipeParser.Load(args[0]));
        var process = System.Diagnostics.Process.GetCurrentProcess();
        var before = process.TotalProcessorTime;
        MergedModelWriter.Write(planned, args[1], new MergeOptions { Seed = 1, Threads = int.Parse(args[2]) });
        process.Refresh();
        // The merge alone (tensors read, merged, written, fsynced): without the runtime's start-up and the recipe's planning.
        Console.WriteLine($"merge_cpu_seconds {(process.TotalProcessorTime - before).TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        string status = File.ReadAllText("/proc/self/status");
        string hwm = status.Split('\n').First(l => l.StartsWith("VmHWM:"));
        long kb = long.Parse(hwm.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        Console.WriteLine($"peak_rss_bytes {kb * 1024}");
        Console.WriteLine($"vector_tier {EvoMerge.Merge.Kernels.VectorTiers.Best}");
        Console.WriteLine($"cpu_seconds {System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
    }
}
