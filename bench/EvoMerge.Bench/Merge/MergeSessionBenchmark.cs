using EvoMerge.TestSupport;
using System.Diagnostics;
using System.Globalization;
using EvoMerge.Merge.Execution;
using EvoMerge.Merge.Methods;

namespace EvoMerge.Bench.Merge;

/// <summary>
/// `merge-session [--params 1e7] [--candidates 20]`: the evolution loop's path — a <see cref="MergeSession"/> over three
/// cached float32 models, one dare_ties merge per candidate into resident buffers — timed per candidate beside the
/// floor (float32 bytes read + written ÷ memory-copy bandwidth measured in the same run).
/// </summary>
public sealed class MergeSessionBenchmark : IBenchmark
{
    public string Name => "merge-session";
    public string Description => "per-candidate in-memory dare_ties merge (evolution path) vs the copy floor";

    public void Run(string[] args)
    {
        int i = Array.IndexOf(args, "--params");
        double parameters = i >= 0 ? double.Parse(args[i + 1], CultureInfo.InvariantCulture) : 1e7;
        int c = Array.IndexOf(args, "--candidates");
        int candidates = c >= 0 ? int.Parse(args[c + 1], CultureInfo.InvariantCulture) : 20;
        const int hidden = 256;
        int layers = Math.Max(1, (int)(parameters / (12.0 * hidden * hidden)));
        var models = Enumerable.Range(0, 3).Select(m => Model($"m{m}", layers, hidden, m)).ToArray();
        long elements = models[0].TensorNames.Sum(n => models[0].Get(n).LongLength);
        var session = MergeSession.Create(MergeMethods.Get("dare_ties"), models[0], [models[1], models[2]]);
        var p = new GroupedParameters(session.Plan.Method, 2, 1, _ => 0);
        var target = new CollectingTarget();
        var rng = new Random(1);
        session.Merge(Fill(p, rng), 0, target); // warm-up: allocates the pooled buffers and the target's arrays
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        for (int k = 0; k < candidates; k++) session.Merge(Fill(p, rng), (ulong)k, target);
        double perCandidate = clock.Elapsed.TotalSeconds / candidates;
        double cpuPerCandidate = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds / candidates;
        double bytes = elements * 4.0 * 4; // three inputs read, one output written, float32
        double copy = Floors.CopyBandwidth(Environment.ProcessorCount, 1 << 28);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{elements / 1e6:0.0} M parameters × 3 models, {Environment.ProcessorCount} threads, load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}"));
        Console.WriteLine("| path | wall ms per candidate | CPU ms per candidate | floor ms | wall × floor |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| MergeSession dare_ties → resident | {perCandidate * 1e3:0.0} | {cpuPerCandidate * 1e3:0.0} | {bytes / 1e9 / copy * 1e3:0.0} | {perCandidate / (bytes / 1e9 / copy):0.0} |"));
    }

    static GroupedParameters Fill(GroupedParameters p, Random rng)
    {
        for (int m = 0; m < 2; m++) p.SetAllGroups(m, "weight", rng.NextDouble()).SetAllGroups(m, "density", 0.2 + 0.8 * rng.NextDouble());
        return p;
    }

    static InMemoryWeights Model(string name, int layers, int hidden, int seed)
    {
        var rng = new Random(seed);
        var w = new InMemoryWeights(name);
        float[] Random(long n) => Enumerable.Range(0, (int)n).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        w.Add("model.embed_tokens.weight", [1024, hidden], Random(1024L * hidden));
        for (int l = 0; l < layers; l++)
        {
            foreach (var proj in new[] { "q_proj", "k_proj", "v_proj", "o_proj" })
                w.Add($"model.layers.{l}.self_attn.{proj}.weight", [hidden, hidden], Random((long)hidden * hidden));
            foreach (var proj in new[] { "gate_proj", "up_proj" })
                w.Add($"model.layers.{l}.mlp.{proj}.weight", [hidden * 8 / 3, hidden], Random((long)hidden * 8 / 3 * hidden));
            w.Add($"model.layers.{l}.mlp.down_proj.weight", [hidden, hidden * 8 / 3], Random((long)hidden * 8 / 3 * hidden));
        }
        return w;
    }
}
