using System.Diagnostics;
using System.Globalization;
using EvoMerge.Bench.Merge;
using EvoMerge.IO;
using EvoMerge.Lora;
using EvoMerge.Lora.Linalg;

namespace EvoMerge.Bench.Lora;

/// <summary>
/// `extract-lora [dir] [parameters] [rank] [threads]`: extracts a rank-64 (default) LoRA from a generated
/// Llama-shaped bf16 fine-tune of about 1e9 parameters (default; <see cref="BenchModels"/>, made once in dir and
/// reused) and prints, side by side: the wall time; the arithmetic it needs ((2q + 2) sketch products of 2·m·n·k
/// flops plus the 2·m·n·r residual check, per module); the rate that implies; the rate of the product kernel alone
/// on the largest module (the floor this design can reach); the time to read both models from the page cache
/// (the I/O floor); and, when python3 with torch is installed, torch.svd_lowrank on the same differences
/// (lora_torch.py, same sketch width and power iterations).
/// </summary>
public sealed class ExtractLoraBenchmark : IBenchmark
{
    public string Name => "extract-lora";
    public string Description => "LoRA extraction of a generated 1B bf16 fine-tune at rank 64, against its floors and torch.svd_lowrank";

    public void Run(string[] args)
    {
        string dir = args.Length > 0 ? args[0] : Path.Combine(Path.GetTempPath(), "evomerge-bench-models");
        double parameters = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 1e9;
        int rank = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 64;
        int threads = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : Environment.ProcessorCount;
        Directory.CreateDirectory(dir);
        var set = BenchModels.Ensure(dir, BenchModels.Shape.Small(parameters));
        BenchModels.Warm([set.Base, set.A]);
        using var tuned = ModelFolder.Open(set.A);
        using var baseModel = ModelFolder.Open(set.Base);
        var options = new LoraExtractionOptions { Rank = rank, Threads = threads, FullSvdMaxSide = 0 };

        var read = Stopwatch.StartNew();
        var buffer = new float[tuned.Weights.Tensors.Max(t => t.ElementCount)];
        foreach (var t in tuned.Weights.Tensors)
        {
            tuned.Weights.ReadFloat32(t.Name, buffer.AsSpan(0, (int)t.ElementCount));
            baseModel.Weights.ReadFloat32(t.Name, buffer.AsSpan(0, (int)t.ElementCount));
        }
        double readSeconds = read.Elapsed.TotalSeconds;

        string output = Path.Combine(dir, $"lora-{set.Parameters}-r{rank}");
        if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
        var clock = Stopwatch.StartNew();
        var adapter = LoraExtractor.Extract(tuned, baseModel, options);
        PeftAdapterWriter.Write(adapter, tuned, set.Base, output);
        double seconds = clock.Elapsed.TotalSeconds;

        int k = rank + options.Oversample, products = 2 * options.PowerIterations + 2;
        double flops = adapter.Modules.Sum(m => (double)m.Rows * m.Cols * 2 * (products * Math.Min(k, Math.Min(m.Rows, m.Cols)) + m.Rank));
        var largest = adapter.Modules.MaxBy(m => (long)m.Rows * m.Cols)!;
        double kernelRate = KernelRate(largest.Rows, largest.Cols, (k + 15) / 16 * 16, threads);
        Console.WriteLine($"model: {set.Parameters / 1e9:0.00} B parameters bf16, {adapter.Modules.Count} modules, rank {rank}, sketch {k}, {options.PowerIterations} power iterations, {threads} threads");
        Console.WriteLine($"{"",-34}{"seconds",10}{"GFLOP/s",10}");
        Console.WriteLine($"{"evomerge extract-lora",-34}{seconds,10:0.00}{flops / seconds / 1e9,10:0.0}");
        Console.WriteLine($"{"floor: product kernel alone",-34}{flops / kernelRate,10:0.00}{kernelRate / 1e9,10:0.0}");
        Console.WriteLine($"{"floor: read both models (warm)",-34}{readSeconds,10:0.00}");
        Console.WriteLine($"mean relative error {adapter.Modules.Average(m => m.RelativeError):0.0000}, adapter {new FileInfo(Path.Combine(output, PeftAdapterWriter.WeightsFileName)).Length / 1e6:0.0} MB");
        TorchSideBySide(set, rank, k, options.PowerIterations, threads);
    }

    /// <summary>flop/s of one sketch product A·Ω on a matrix of the largest module's shape (cache-warm second run).</summary>
    static double KernelRate(int rows, int cols, int width, int threads)
    {
        var a = new float[(long)rows * cols];
        var b = new float[(long)cols * width];
        var c = new float[(long)rows * width];
        for (long i = 0; i < a.Length; i++) a[i] = (i % 7) * 0.1f;
        for (long i = 0; i < b.Length; i++) b[i] = (i % 5) * 0.1f;
        MatrixProduct.MultiplyAdd(a, rows, cols, cols, 1, b, width, c, threads);
        var clock = Stopwatch.StartNew();
        MatrixProduct.MultiplyAdd(a, rows, cols, cols, 1, b, width, c, threads);
        return 2.0 * rows * cols * width / clock.Elapsed.TotalSeconds;
    }

    static void TorchSideBySide(BenchModels.Set set, int rank, int k, int iterations, int threads)
    {
        string script = Path.Combine(AppContext.BaseDirectory, "Lora", "lora_torch.py");
        var psi = new ProcessStartInfo("/usr/bin/python3", $"\"{script}\" \"{set.A}\" \"{set.Base}\" {k} {iterations} {threads}") { RedirectStandardOutput = true, RedirectStandardError = true };
        try
        {
            using var p = Process.Start(psi)!;
            string stdout = p.StandardOutput.ReadToEnd(), stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Console.WriteLine(p.ExitCode == 0 ? stdout.TrimEnd() : $"torch.svd_lowrank: not measured ({stderr.Trim().Split('\n').Last()})");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Console.WriteLine($"torch.svd_lowrank: not measured ({e.Message})");
        }
    }
}
