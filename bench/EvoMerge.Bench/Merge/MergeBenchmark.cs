using System.Diagnostics;
using System.Globalization;
using EvoMerge.IO;

namespace EvoMerge.Bench.Merge;

/// <summary>
/// `merge [--params 1e9] [--dir /tmp/evomerge-merge-bench] [--threads N] [--engines evomerge,pytorch]`: generates three
/// Llama-shaped bf16 models (base, a, b), then merges them with dare_ties (base + a + b) and slerp (base → a), each by EvoMerge and by a
/// PyTorch implementation of the same arithmetic on the same files (merge_torch.py, Debian's python3-torch), each in
/// its own process so that peak RSS is its own. Prints wall time, GB/s and peak RSS beside the floor: bytes read +
/// written ÷ the memory-copy bandwidth measured in this run (1 GiB buffers, read + write bytes per second). Inputs are
/// read once before each run (warm page cache). `--engines evomerge` skips PyTorch (for quick iterations).
/// </summary>
public sealed class MergeBenchmark : IBenchmark
{
    public string Name => "merge";
    public string Description => "dare_ties and slerp of three generated bf16 models vs the copy floor and PyTorch";

    public void Run(string[] args)
    {
        double parameters = double.Parse(Option(args, "--params", "1e9"), CultureInfo.InvariantCulture);
        string dir = Option(args, "--dir", Path.Combine(Path.GetTempPath(), "evomerge-merge-bench"));
        int threads = int.Parse(Option(args, "--threads", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        string[] engines = Option(args, "--engines", "evomerge,pytorch").Split(',');
        Directory.CreateDirectory(dir);
        var models = BenchModels.Ensure(dir, parameters);
        string script = Path.Combine(AppContext.BaseDirectory, "Merge", "merge_torch.py");
        Console.WriteLine($"models: 3 × {models.Parameters / 1e9:0.000} B parameters, bf16, {models.BytesPerModel / 1e9:0.00} GB each; {threads} threads");
        Console.WriteLine($"machine load average at start: {File.ReadAllText("/proc/loadavg").Split(' ')[0]} on {Environment.ProcessorCount} cores; Vector512 accelerated: {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated}");
        var runs = new List<(string Method, string Engine, long Bytes, double Seconds, long Rss, double Cpu)>();
        foreach (var (method, inputs) in new[] { ("dare_ties", 3), ("slerp", 2) })
        {
            string recipe = Path.Combine(dir, method + ".yml");
            File.WriteAllText(recipe, method == "dare_ties"
                ? $"merge_method: dare_ties\nbase_model: {models.Base}\nmodels:\n  - model: {models.A}\n    parameters: {{weight: 0.5, density: 0.5}}\n  - model: {models.B}\n    parameters: {{weight: 0.5, density: 0.5}}\ndtype: bfloat16\n"
                : $"merge_method: slerp\nbase_model: {models.Base}\nmodels:\n  - model: {models.A}\nparameters:\n  t: 0.5\ndtype: bfloat16\n");
            string[] sources = inputs == 3 ? [models.Base, models.A, models.B] : [models.Base, models.A];
            foreach (var engine in engines)
            {
                string output = Path.Combine(dir, $"out-{method}-{engine}");
                if (Directory.Exists(output)) Directory.Delete(output, true);
                BenchModels.Warm(sources);
                var (seconds, rss, cpu) = engine == "evomerge"
                    ? Measure(Environment.ProcessPath!, $"\"{typeof(MergeBenchmark).Assembly.Location}\" merge-run \"{recipe}\" \"{output}\" {threads}")
                    : Measure("/usr/bin/python3", $"\"{script}\" {method} \"{output}\" {threads} {string.Join(' ', sources.Select(s => $"\"{s}\""))}");
                runs.Add((method, engine, models.BytesPerModel * (inputs + 1), seconds, rss, cpu));
                if (Directory.Exists(output)) Directory.Delete(output, true);
            }
        }

        // The copy is measured after the merges: its 2 GiB of buffers, held while the merges ran, made the kernel
        // reclaim memory inside the first merge and charged that to its CPU time.
        double copyGBs = CopyBandwidth(threads), copyOneThread = CopyBandwidth(1);
        Console.WriteLine($"memory copy of 1 GiB, read + write bytes: {copyGBs:0.0} GB/s on {threads} threads, {copyOneThread:0.0} GB/s on 1 (the floor uses the first)");
        Console.WriteLine();
        Console.WriteLine("| method | engine | wall s | CPU s | GB/s (read+write) | peak RSS GB | floor s | wall × floor |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (var r in runs)
        {
            double floor = r.Bytes / 1e9 / copyGBs;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Method} | {r.Engine} | {r.Seconds:0.00} | {r.Cpu:0.00} | {r.Bytes / 1e9 / r.Seconds:0.00} | {r.Rss / 1e9:0.00} | {floor:0.00} | {r.Seconds / floor:0.0} |"));
        }
    }

    /// <summary>Runs a process to completion; returns its wall time and what it printed as "peak_rss_bytes N" and "cpu_seconds S".</summary>
    static (double Seconds, long PeakRss, double Cpu) Measure(string file, string arguments)
    {
        var psi = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        var clock = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        double seconds = clock.Elapsed.TotalSeconds;
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {arguments} failed ({p.ExitCode}):\n{stdout}\n{stderr.Result}");
        string Value(string key) => stdout.Split('\n').LastOrDefault(l => l.StartsWith(key + " ", StringComparison.Ordinal))?[(key.Length + 1)..]
            ?? throw new InvalidOperationException($"no {key} line in:\n" + stdout);
        return (seconds, long.Parse(Value("peak_rss_bytes"), CultureInfo.InvariantCulture), double.Parse(Value("cpu_seconds"), CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Memory traffic of a buffer copy in GB/s, counting bytes read + bytes written (as STREAM does, and as the floor
    /// counts the merge's bytes), split across <paramref name="threads"/> threads, best of three. Both buffers are
    /// written in full first: a fresh array's untouched pages all map the kernel's one zero page, so copying from
    /// them reads 4 KiB of cache over and over and reports several times the real bandwidth.
    /// </summary>
    internal static double CopyBandwidth(int threads, int bytes = 1 << 30)
    {
        var source = GC.AllocateUninitializedArray<byte>(bytes);
        var destination = GC.AllocateUninitializedArray<byte>(bytes);
        source.AsSpan().Fill(0x5A);
        destination.AsSpan().Fill(1);
        double best = double.MaxValue;
        for (int run = 0; run < 3; run++)
        {
            var clock = Stopwatch.StartNew();
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                long chunk = source.Length / threads;
                source.AsSpan((int)(t * chunk), (int)chunk).CopyTo(destination.AsSpan((int)(t * chunk)));
            });
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return 2.0 * bytes / 1e9 / best;
    }

    static string Option(string[] args, string name, string fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }
}
