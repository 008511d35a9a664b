using System.Diagnostics;
using EvoMerge.Demo;
using EvoMerge.Evaluation;
using EvoMerge.Evolution;
using EvoMerge.Evolution.Config;
using EvoMerge.Torch.Runtime;
using TorchSharp;

namespace EvoMerge.Bench.Demo;

/// <summary>
/// Time of one demo fitness evaluation (100 Japanese-math dev prompts, greedy, ≤ 8 new characters) by torch
/// thread count and prompts per generation call. Args: a demo model folder (default demo/models/math).
/// </summary>
public sealed class DemoEvaluationBenchmark : IBenchmark
{
    public string Name => "demo-eval";
    public string Description => "one demo fitness evaluation: threads × batch size";

    public void Run(string[] args)
    {
        string folder = args.Length > 0 ? args[0] : Path.Combine("demo", "models", "math");
        var data = Directory.CreateTempSubdirectory("evomerge-bench-demo");
        DemoTasks.WriteData(new MiniatureWorld().Splits, data.FullName);
        var fitness = DemoTasks.Fitness(data.FullName);
        var task = EvalTasks.Create(TaskSpecs.ToSpec(fitness, new EvolutionConfig { Name = "bench", Models = [], Fitness = [fitness] }));
        using var loaded = LoadedModel.Load(folder);
        Console.WriteLine("threads\tbatch\tseconds/eval (best of 3)\tstrict");
        foreach (int threads in new[] { 1, 2 })
            foreach (int batch in new[] { 8, 100 })
            {
                torch.set_num_threads(threads);
                var lm = new TorchLanguageModel(loaded.Model, loaded.Tokenizer, batch);
                double best = double.MaxValue, score = 0;
                for (int rep = 0; rep < 3; rep++)
                {
                    var watch = Stopwatch.StartNew();
                    score = task.Evaluate(lm, null, new EvalRunOptions(batch)).Primary.Value;
                    best = Math.Min(best, watch.Elapsed.TotalSeconds);
                }
                Console.WriteLine($"{threads}\t{batch}\t{best:F3}\t{score:F3}");
            }
        data.Delete(recursive: true);
    }
}
