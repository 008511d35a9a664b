using System.Diagnostics;
using EvoMerge.Evaluation;
using EvoMerge.IO.Gguf;
using EvoMerge.Tokenization;
using EvoMerge.Torch.Generation;
using EvoMerge.Torch.Model;
using static TorchSharp.torch;

namespace EvoMerge.Bench.Runtime;

/// <summary>
/// Evaluation items per second on an MGSM-style workload: the paper's Japanese chain-of-thought prompt around MGSM-ja
/// questions (Mistral's tokenizer, from ../shared/data), a reply length per item drawn from [min, max] tokens (the
/// point where a stop string would end it; the random-weight models never stop on their own), greedy. Three engines
/// on the same model, items and lengths, side by side: fixed batches of similar prompt length that run until their
/// longest reply ends (the engine before continuous batching), <see cref="ContinuousBatching"/>, and llama.cpp
/// (LLamaSharp) batched decoding with the same slots, shared prefix and refills on the model's GGUF.
/// </summary>
public sealed class EvalThroughputBenchmark : IBenchmark
{
    public string Name => "eval-throughput";
    public string Description => "items/s on MGSM-ja CoT prompts: fixed batches vs continuous batching vs llama.cpp, ~22M + ~100M [--items 64 --batch 16 --min-reply 20 --max-reply 300 --threads 2 --models 22m,100m --dtype f32 --data ../shared/data]";

    public void Run(string[] args)
    {
        string Text(string name, string fallback) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        int Arg(string name, int fallback) => int.Parse(Text(name, fallback.ToString()));
        int items = Arg("--items", 64), batch = Arg("--batch", 16), minReply = Arg("--min-reply", 20), maxReply = Arg("--max-reply", 300), threads = Arg("--threads", 2);
        string data = Text("--data", Path.Combine("..", "shared", "data"));
        var dtype = Text("--dtype", "f32") == "bf16" ? ScalarType.BFloat16 : ScalarType.Float32;
        var prompts = Prompts(data, items);
        var rng = new Random(7);
        var replies = prompts.Select(_ => rng.Next(minReply, maxReply + 1)).ToArray();
        int shared = ContinuousBatching.SharedPrefix(prompts);
        Console.WriteLine($"{items} items, prompts {prompts.Min(p => p.Count)}–{prompts.Max(p => p.Count)} tokens ({shared} shared), replies {minReply}–{maxReply} tokens " +
            $"({replies.Sum()} in all), batch {batch}, threads {threads}, {dtype}");
        Console.WriteLine();
        Console.WriteLine("| model | engine | seconds | items/s | new tokens/s | vs before |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|");
        set_num_threads(threads);
        string dir = Directory.CreateTempSubdirectory("evomerge-bench-eval-").FullName;
        try
        {
            foreach (string size in Text("--models", "22m,100m").Split(','))
            {
                var config = size switch
                {
                    "22m" => BenchLlama.Config(6) with { HiddenSize = 384, IntermediateSize = 1024, NumHeads = 6, NumKvHeads = 2 },
                    "100m" => BenchLlama.Config(12),
                    _ => throw new ArgumentException($"--models: {size} is not 22m or 100m"),
                };
                config = config.Validated();
                var weights = BenchLlama.Weights(config, seed: 1);
                string label = $"{weights.Sum(w => (long)w.Values.Length) / 1e6:F0}M";
                using var engine = new TorchRuntimeEngine(config, weights, dtype, threads);
                // Warm-up (JIT, allocator, thread pools) on two items with two-token replies, then one timed run each.
                var few = prompts.Take(2).ToArray();
                FixedBatches(engine.Model, few, [2, 2], batch);
                ContinuousBatching.Generate(engine.Model, few, new SamplingOptions(2), null, null, batch);
                var before = Time(() => FixedBatches(engine.Model, prompts, replies, batch));
                var after = Time(() => ContinuousBatching.Generate(engine.Model, prompts, new SamplingOptions(maxReply), null, (i, ids) => ids.Count >= replies[i], batch));
                int same = Enumerable.Range(0, items).Count(i => before.Output[i].SequenceEqual(after.Output[i]));
                Row(label, "before: fixed batches", before.Seconds, before.Seconds);
                Row(label, $"after: continuous batching ({same}/{items} replies token-identical)", after.Seconds, before.Seconds);

                string gguf = Path.Combine(dir, $"{size}.gguf");
                BenchLlama.WriteGguf(gguf, config, weights, dtype == ScalarType.BFloat16 ? GgufOutputType.BF16 : GgufOutputType.F32);
                using (var llama = new LlamaCppEngine(gguf, threads))
                {
                    llama.RunItems(few, [2, 2], batch);
                    var theirs = Time(() => llama.RunItems(prompts, replies, batch));
                    int agree = Enumerable.Range(0, items).Count(i => before.Output[i].SequenceEqual(theirs.Output[i]));
                    Row(label, $"llama.cpp (LLamaSharp) continuous batching ({agree}/{items} replies equal to before)", theirs.Seconds, before.Seconds);
                }
                File.Delete(gguf);
            }
        }
        finally { Directory.Delete(dir, recursive: true); }
        Console.WriteLine();
        Console.WriteLine("One timed run each after a two-item warm-up. llama.cpp: f16 KV cache (its default), unified KV; its replies may differ from ours where greedy choices are near ties (other arithmetic).");

        void Row(string model, string engine, double seconds, double baseline) =>
            Console.WriteLine($"| {model} | {engine} | {seconds:F2} | {items / seconds:F2} | {replies.Sum() / seconds:F0} | {baseline / seconds:F2}× |");
    }

    /// <summary>The engine before continuous batching: batches of similar prompt length, each run until its longest reply ends.</summary>
    static IReadOnlyList<int>[] FixedBatches(ICausalLM model, IReadOnlyList<IReadOnlyList<int>> prompts, int[] replies, int batch)
    {
        var output = new IReadOnlyList<int>[prompts.Count];
        foreach (var chunk in Enumerable.Range(0, prompts.Count).OrderBy(i => prompts[i].Count).Chunk(batch))
        {
            var generated = TokenGenerator.Generate(model, chunk.Select(i => prompts[i]).ToArray(), new SamplingOptions(replies.Max()), null,
                (b, ids) => ids.Count >= replies[chunk[b]]);
            for (int b = 0; b < chunk.Length; b++) output[chunk[b]] = generated[b];
        }
        return output;
    }

    static (double Seconds, IReadOnlyList<IReadOnlyList<int>> Output) Time(Func<IReadOnlyList<IReadOnlyList<int>>> run)
    {
        var clock = Stopwatch.StartNew();
        var output = run();
        return (clock.Elapsed.TotalSeconds, output);
    }

    /// <summary>MGSM-ja questions in the paper's prompt, tokenized with Mistral's tokenizer (BOS first), ordered by length.</summary>
    static IReadOnlyList<IReadOnlyList<int>> Prompts(string data, int items)
    {
        string tsv = Path.Combine(data, "mgsm", "mgsm_ja.tsv"), tokenizerFolder = Path.Combine(data, "tokenizers", "mistral-7b-v0.1");
        if (!File.Exists(tsv) || !Directory.Exists(tokenizerFolder))
            throw new EvoMergeException($"{data}: needs mgsm/mgsm_ja.tsv and tokenizers/mistral-7b-v0.1 (pass --data)");
        var tokenizer = TokenizerFactory.FromFolder(tokenizerFolder, 32000);
        var template = new PromptTemplate(PromptTemplate.SakanaJapaneseMath);
        var questions = File.ReadLines(tsv).Where(l => l.Length > 0).Select(l => l.Split('\t')[0]).ToArray();
        return Enumerable.Range(0, items)
            .Select(i => tokenizer.Encode(template.Render(new Dictionary<string, string> { ["question"] = questions[i % questions.Length] }, tsv), addBos: true))
            .OrderBy(p => p.Count).ToArray();
    }
}
