using System.Diagnostics;
using System.Globalization;
using EvoMerge.Merge.Kernels;

namespace EvoMerge.Bench.Merge;

/// <summary>
/// `kernels [--elements 16777216] [--repeats 10]`: CPU nanoseconds per entry of each hot kernel at each tier this CPU
/// accelerates (and scalar), one thread, in-cache chunks as the merge runs them: the DARE mask, the three-model TIES
/// combine of a 1024-entry chunk, and the f32/bf16 dot products of the batch-1 mat-vec.
/// </summary>
public sealed class KernelBenchmark : IBenchmark
{
    public string Name => "kernels";
    public string Description => "ns per entry of the DARE mask, TIES combine and dot products at every accelerated vector tier";

    public void Run(string[] args)
    {
        int elements = int.Parse(Option(args, "--elements", "16777216"), CultureInfo.InvariantCulture);
        int repeats = int.Parse(Option(args, "--repeats", "10"), CultureInfo.InvariantCulture);
        var random = new Random(1);
        var values = Enumerable.Range(0, TaskVectorCombine.ChunkElements * 3).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        var baseValues = values[..TaskVectorCombine.ChunkElements];
        var output = new float[TaskVectorCombine.ChunkElements];
        var mask = new float[TaskVectorCombine.ChunkElements];
        var row = values[..2048];
        var bf16Row = row.Select(EvoMerge.IO.FloatConversion.RoundToBFloat16).ToArray();
        float[] weights = [0.5f, 0.3f, 0.2f];
        var rule = new CombineRule(Consensus: true, Normalize: false, Lambda: 1);
        Console.WriteLine($"widest accelerated tier: {VectorTiers.Best}; {elements} entries per measurement, best of {repeats}");
        Console.WriteLine("| tier | DARE mask ns/entry | TIES combine (3 models) ns/entry | dot f32 ns/entry | dot bf16 ns/entry |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var tier in VectorTiers.All.Where(t => t <= VectorTiers.Best))
        {
            double dare = Time(elements, repeats, mask.Length, () => { values.AsSpan(0, mask.Length).CopyTo(mask); TensorRandom.KeepWithProbability(mask, 0.5f, 2, 7, 0, tier); });
            double combine = Time(elements, repeats, output.Length, () => TaskVectorCombine.Chunk(values, weights, rule, baseValues, output, tier));
            float sink = 0;
            double dot = Time(elements, repeats, row.Length, () => sink += DotProduct.Float32(row, row, tier));
            double dotBf16 = Time(elements, repeats, row.Length, () => sink += DotProduct.BFloat16(bf16Row, row, tier));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {tier} | {dare:0.000} | {combine:0.000} | {dot:0.000} | {dotBf16:0.000} |{(sink == 1 ? " " : "")}"));
        }
        Console.WriteLine("(the DARE mask includes a 4 KiB copy that restores its input each call)");
    }

    /// <summary>Best CPU ns per entry (process CPU time: less disturbed by neighbours than wall time) over <paramref name="repeats"/> timings of enough calls to cover <paramref name="elements"/> entries.</summary>
    static double Time(int elements, int repeats, int perCall, Action call)
    {
        int calls = Math.Max(1, elements / perCall);
        for (int i = 0; i < Math.Min(calls, 1000); i++) call();
        double best = double.MaxValue;
        for (int r = 0; r < repeats; r++)
        {
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            for (int i = 0; i < calls; i++) call();
            best = Math.Min(best, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalNanoseconds / ((double)calls * perCall));
        }
        return best;
    }

    static string Option(string[] args, string name, string fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }
}
