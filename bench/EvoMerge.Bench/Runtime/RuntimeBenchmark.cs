using System.Diagnostics;
using EvoMerge.IO.Gguf;
using static TorchSharp.torch;

namespace EvoMerge.Bench.Runtime;

/// <summary>
/// Prefill and decode tokens/s of EvoMerge's runtime and of llama.cpp (LLamaSharp) on the same ~100M-parameter
/// Llama, f32 and bf16, batch 1 and 16, measured side by side in one process with the same thread count.
/// The decode ceiling is the tokens/s reached if every step only streamed every weight once at the memory bandwidth of a large copy
/// (bytes read + bytes written per second) measured in the same run.
/// </summary>
public sealed class RuntimeBenchmark : IBenchmark
{
    public string Name => "runtime";
    public string Description => "prefill/decode tokens/s vs llama.cpp (LLamaSharp), ~100M Llama, f32+bf16, batch 1+16 [--threads 2 --prompt 128 --decode 32 --repeats 2 --layers 12]";

    public void Run(string[] args)
    {
        int Arg(string name, int fallback) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1]) : fallback;
        int threads = Arg("--threads", 2), prompt = Arg("--prompt", 128), decode = Arg("--decode", 32), repeats = Arg("--repeats", 2);
        var config = BenchLlama.Config(Arg("--layers", 12));
        var weights = BenchLlama.Weights(config, seed: 1);
        long parameters = weights.Sum(w => (long)w.Values.Length);
        double bandwidth = CopyBandwidth();
        Console.WriteLine($"model: {parameters / 1e6:F1}M parameters ({config.NumLayers} layers, hidden {config.HiddenSize}, GQA {config.NumHeads}/{config.NumKvHeads}, vocab {config.VocabSize}, tied)");
        Console.WriteLine($"threads: {threads}, prompt {prompt} tokens, decode {decode} steps, best of {repeats}; memory traffic of a copy {bandwidth / 1e9:F1} GB/s (read + write)");
        Console.WriteLine();
        Console.WriteLine("| dtype | engine | prefill b1 | prefill b16 | decode b1 | decode b16 |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|");

        string dir = Directory.CreateTempSubdirectory("evomerge-bench-").FullName;
        try
        {
            foreach (var (type, dtype, bytesPerWeight) in new[] { (GgufOutputType.F32, ScalarType.Float32, 4), (GgufOutputType.BF16, ScalarType.BFloat16, 2) })
            {
                string gguf = Path.Combine(dir, $"bench-{type}.gguf");
                BenchLlama.WriteGguf(gguf, config, weights, type);
                var cases = new[] { new ThroughputCase(1, prompt, decode), new ThroughputCase(16, prompt, decode) };

                Throughput[] ours, theirs;
                using (var engine = new TorchRuntimeEngine(config, weights, dtype, threads))
                    ours = cases.Select(c => Measure(c, engine.Run, repeats)).ToArray();
                using (var engine = new LlamaCppEngine(gguf, threads))
                    theirs = cases.Select(c => Measure(c, engine.Run, repeats)).ToArray();
                File.Delete(gguf);

                string label = type.ToString().ToLowerInvariant();
                Row(label, "EvoMerge (TorchSharp)", ours);
                Row(label, "llama.cpp (LLamaSharp)", theirs);
                Console.WriteLine($"| {label} | ratio EvoMerge / llama.cpp | {ours[0].PrefillTokensPerSecond / theirs[0].PrefillTokensPerSecond:F2}× | " +
                    $"{ours[1].PrefillTokensPerSecond / theirs[1].PrefillTokensPerSecond:F2}× | {ours[0].DecodeTokensPerSecond / theirs[0].DecodeTokensPerSecond:F2}× | " +
                    $"{ours[1].DecodeTokensPerSecond / theirs[1].DecodeTokensPerSecond:F2}× |");
                // Decode reads every weight once per step (the tied embedding matrix as the head).
                double ceiling = bandwidth / (parameters * (double)bytesPerWeight);
                Console.WriteLine($"| {label} | bandwidth ceiling (weight bytes per step ÷ copy traffic) | | | {ceiling:F0} | {16 * ceiling:F0} |");
            }
        }
        finally { Directory.Delete(dir, recursive: true); }
        Console.WriteLine();
        Console.WriteLine("tokens/s; prefill counts prompt tokens, decode new tokens (greedy). llama.cpp: default KV cache (f16) and flash-attention choice.");
    }

    static Throughput Measure(ThroughputCase c, Func<ThroughputCase, int, Throughput> run, int repeats)
    {
        run(c with { Prompt = Math.Min(c.Prompt, 16), Decode = 2 }, 0);   // warm-up: allocation, thread pools, page cache
        return Throughput.Best(Enumerable.Range(1, repeats).Select(seed => run(c, seed)).ToList());
    }

    static void Row(string dtype, string engine, Throughput[] t) =>
        Console.WriteLine($"| {dtype} | {engine} | {t[0].PrefillTokensPerSecond:F0} | {t[1].PrefillTokensPerSecond:F0} | {t[0].DecodeTokensPerSecond:F0} | {t[1].DecodeTokensPerSecond:F0} |");

    /// <summary>Memory traffic (read + write bytes) per second of a 256 MiB buffer copy, best of 5.</summary>
    static double CopyBandwidth()
    {
        var a = new byte[256 << 20];
        var b = new byte[256 << 20];
        Array.Fill(a, (byte)1);
        double best = double.MaxValue;
        for (int i = 0; i < 5; i++)
        {
            var clock = Stopwatch.StartNew();
            a.AsSpan().CopyTo(b);
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return 2.0 * a.Length / best;
    }
}
