using System.Diagnostics;
using System.Globalization;
using EvoMerge.Merge.Kernels;

namespace EvoMerge.Bench.Merge;

/// <summary>
/// `merge [--params 1e9 | --shape 7b] [--dir DIR] [--threads N] [--engines evomerge,pytorch] [--methods dare_ties,slerp,linear]`:
/// generates three Llama-shaped bf16 models (base, a, b), merges them with each method by EvoMerge (`merge-run`, a
/// child process, so that peak RSS and CPU time are its own) and by a PyTorch implementation of the same arithmetic
/// on the same files (merge_torch.py, Debian's python3-torch), with the page cache warmed before each run. dare_ties
/// runs once more in a child with AVX-512 switched off (<c>DOTNET_EnableAVX512=0</c>), on the same files, and the
/// two outputs are compared by SHA-256 (each output is deleted once digested: one on disk at a time). Beside each wall time: the I/O floor (reading every input byte through the
/// page cache + writing the output's bytes with fsync by a plain copy, both measured here) and the memory floor
/// (bytes read + written ÷ memory-copy bandwidth measured here).
/// </summary>
public sealed class MergeBenchmark : IBenchmark
{
    public string Name => "merge";
    public string Description => "dare_ties, slerp, linear of three generated bf16 models vs the I/O and memory floors, AVX-512 off beside on, and PyTorch";

    sealed record Measured(string Method, string Engine, int Inputs, double Seconds, long Rss, double Cpu, double? MergeCpu, string? Tier);

    static readonly string[] Avx512Off = ["DOTNET_EnableAVX512=0", "DOTNET_EnableAVX512F=0"];

    public void Run(string[] args)
    {
        bool large = Option(args, "--shape", "1b") == "7b";
        var shape = large ? BenchModels.Shape.Mistral7B : BenchModels.Shape.Small(double.Parse(Option(args, "--params", "1e9"), CultureInfo.InvariantCulture));
        string dir = Option(args, "--dir", Path.Combine(Path.GetTempPath(), "evomerge-merge-bench"));
        int threads = int.Parse(Option(args, "--threads", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        // PyTorch holds whole float32 tensors of three models: at 7B it needs far more memory than the merge itself.
        string[] engines = Option(args, "--engines", large ? "evomerge" : "evomerge,pytorch").Split(',');
        string[] methods = Option(args, "--methods", "dare_ties,slerp,linear").Split(',');
        if (engines.Contains("pytorch") && !HasTorch())
        {
            Console.WriteLine("pytorch skipped: /usr/bin/python3 cannot import torch (Debian: apt-get install python3-torch)");
            engines = engines.Where(e => e != "pytorch").ToArray();
        }
        Directory.CreateDirectory(dir);
        var models = BenchModels.Ensure(dir, shape);
        Console.WriteLine($"models: 3 × {models.Parameters / 1e9:0.000} B parameters ({shape.Name} shape), bf16, {models.BytesPerModel / 1e9:0.00} GB each; {threads} threads");
        Console.WriteLine($"machine load average at start: {File.ReadAllText("/proc/loadavg").Split(' ')[0]} on {Environment.ProcessorCount} cores; widest kernel tier: {VectorTiers.Best}");

        var runs = new List<Measured>();
        foreach (string method in methods)
        {
            string[] sources = method == "slerp" ? [models.Base, models.A] : [models.Base, models.A, models.B];
            string recipe = Path.Combine(dir, method + ".yml");
            File.WriteAllText(recipe, Recipe(method, models));
            var variants = new List<(string Engine, string[] Env)>();
            foreach (string engine in engines)
            {
                variants.Add((engine, []));
                if (engine == "evomerge" && method == "dare_ties" && VectorTiers.Best == VectorTier.Vector512) variants.Add(("evomerge, AVX-512 off", Avx512Off));
            }
            var digests = new List<string>();
            foreach (var (engine, env) in variants)
            {
                string output = Path.Combine(dir, $"out-{method}-{engine.Replace(", ", "-").Replace(' ', '-')}");
                if (Directory.Exists(output)) Directory.Delete(output, true);
                BenchModels.Warm(sources);
                var psi = engine.StartsWith("evomerge", StringComparison.Ordinal)
                    ? SelfProcess.Command("merge-run", recipe, output, threads.ToString(CultureInfo.InvariantCulture))
                    : Python(method, output, threads, sources);
                foreach (string e in env) psi.Environment[e.Split('=')[0]] = e.Split('=')[1];
                var (seconds, rss, cpu, mergeCpu, tier) = Measure(psi);
                runs.Add(new Measured(method, engine, sources.Length, seconds, rss, cpu, mergeCpu, tier));
                if (engine.StartsWith("evomerge", StringComparison.Ordinal)) digests.Add(Digest(output));
                Directory.Delete(output, true); // one output on disk at a time: the 7B case needs 14.5 GB for each
            }
            if (digests.Count == 2)
                Console.WriteLine($"{method}: output with AVX-512 off is {(digests[0] == digests[1] ? "byte-identical to" : "DIFFERENT from")} the output with it on");
        }

        // Floors after the merges: the copy's 2 GiB of buffers, held while the merges ran, made the kernel reclaim memory
        // inside the first merge and charged that to its CPU time.
        var read = runs.Select(r => r.Inputs).Distinct().ToDictionary(n => n,
            n => Floors.ReadSeconds(BenchModels.Files(models.Folders.Take(n)).ToList(), threads));
        double write = Floors.WriteSeconds(models.Base, dir);
        double copy = Floors.CopyBandwidth(threads), copyOneThread = Floors.CopyBandwidth(1);
        foreach (var (n, seconds) in read.OrderBy(p => p.Key))
            Console.WriteLine($"read floor, {n} inputs ({n * models.BytesPerModel / 1e9:0.00} GB through the page cache, pread on {threads} threads): {seconds:0.00} s");
        Console.WriteLine($"write floor ({models.BytesPerModel / 1e9:0.00} GB copied and fsynced, 1 thread): {write:0.00} s");
        Console.WriteLine($"memory copy of 1 GiB, read + write bytes: {copy:0.0} GB/s on {threads} threads, {copyOneThread:0.0} GB/s on 1 (the memory floor uses the first)");
        Console.WriteLine();
        Console.WriteLine("| method | engine | wall s | CPU s | CPU ns/param | merge-only CPU ns/param | peak RSS GB | I/O floor s | wall ÷ I/O floor | memory floor s | wall ÷ memory floor |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in runs)
        {
            double io = read[r.Inputs] + write, memory = (r.Inputs + 1) * models.BytesPerModel / 1e9 / copy;
            string engine = r.Tier is null ? r.Engine : $"{r.Engine} ({r.Tier})";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Method} | {engine} | {r.Seconds:0.00} | {r.Cpu:0.00} | {r.Cpu / models.Parameters * 1e9:0.00} | {(r.MergeCpu is { } m ? (m / models.Parameters * 1e9).ToString("0.00", CultureInfo.InvariantCulture) : "")} | {r.Rss / 1e9:0.00} | {io:0.00} | {r.Seconds / io:0.00} | {memory:0.00} | {r.Seconds / memory:0.0} |"));
        }
    }

    static string Recipe(string method, BenchModels.Set models) => method switch
    {
        "dare_ties" => $"merge_method: dare_ties\nbase_model: {models.Base}\nmodels:\n  - model: {models.A}\n    parameters: {{weight: 0.5, density: 0.5}}\n  - model: {models.B}\n    parameters: {{weight: 0.5, density: 0.5}}\ndtype: bfloat16\n",
        "slerp" => $"merge_method: slerp\nbase_model: {models.Base}\nmodels:\n  - model: {models.A}\nparameters:\n  t: 0.5\ndtype: bfloat16\n",
        "linear" => $"merge_method: linear\nmodels:\n  - model: {models.Base}\n    parameters: {{weight: 1}}\n  - model: {models.A}\n    parameters: {{weight: 1}}\n  - model: {models.B}\n    parameters: {{weight: 1}}\ndtype: bfloat16\n",
        _ => throw new ArgumentException($"--methods: unknown method '{method}'; valid: dare_ties, slerp, linear"),
    };

    static bool HasTorch()
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("/usr/bin/python3", "-c \"import torch\"") { RedirectStandardError = true, RedirectStandardOutput = true })!;
            p.WaitForExit();
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception) { return false; }
    }

    static ProcessStartInfo Python(string method, string output, int threads, string[] sources)
    {
        string script = Path.Combine(AppContext.BaseDirectory, "Merge", "merge_torch.py");
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in new[] { script, method, output, threads.ToString(CultureInfo.InvariantCulture) }.Concat(sources)) psi.ArgumentList.Add(arg);
        return psi;
    }

    /// <summary>Runs a process to completion; returns its wall time and what it printed as "peak_rss_bytes N", "cpu_seconds S" and (EvoMerge) "merge_cpu_seconds S", "vector_tier T".</summary>
    static (double Seconds, long PeakRss, double Cpu, double? MergeCpu, string? Tier) Measure(ProcessStartInfo psi)
    {
        var clock = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        double seconds = clock.Elapsed.TotalSeconds;
        string command = $"{psi.FileName} {string.Join(' ', psi.ArgumentList)}";
        if (p.ExitCode != 0) throw new InvalidOperationException($"{command} failed ({p.ExitCode}):\n{stdout}\n{stderr.Result}");
        string? Value(string key) => stdout.Split('\n').LastOrDefault(l => l.StartsWith(key + " ", StringComparison.Ordinal))?[(key.Length + 1)..].Trim();
        string Required(string key) => Value(key) ?? throw new InvalidOperationException($"{command}: no {key} line in:\n{stdout}");
        return (seconds, long.Parse(Required("peak_rss_bytes"), CultureInfo.InvariantCulture), double.Parse(Required("cpu_seconds"), CultureInfo.InvariantCulture),
            Value("merge_cpu_seconds") is { } merge ? double.Parse(merge, CultureInfo.InvariantCulture) : null, Value("vector_tier"));
    }

    /// <summary>SHA-256 over the names and bytes of a folder's weight files: two outputs compare by digest, so only one need exist at a time.</summary>
    static string Digest(string folder)
    {
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        foreach (string file in BenchModels.Files([folder]))
        {
            sha.AppendData(System.Text.Encoding.UTF8.GetBytes(Path.GetFileName(file) + "\n"));
            using var stream = File.OpenRead(file);
            int n;
            while ((n = stream.Read(buffer)) > 0) sha.AppendData(buffer, 0, n);
        }
        return Convert.ToHexString(sha.GetHashAndReset());
    }

    static string Option(string[] args, string name, string fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }
}
