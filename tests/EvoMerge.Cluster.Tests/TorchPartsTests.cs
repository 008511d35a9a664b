using EvoMerge.Candidates;
using EvoMerge.Demo;
using EvoMerge.Evolution;
using EvoMerge.Evolution.Config;
using EvoMerge.Evolution.Spaces;
using EvoMerge.Torch.Evolution;
using static TorchSharp.torch;

namespace EvoMerge.Cluster.Tests;

/// <summary>
/// The runtime a worker runs, on the demo models: a merge scored whole, and the same merge scored as parts of its
/// items by another evaluator (which merged something else first and takes the parts last to first), give the same
/// scores and item scores bit for bit once the parts are put back together.
/// </summary>
public class TorchPartsTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(5)]
    public void A_merge_scored_in_parts_equals_it_scored_whole(int parts)
    {
        string root = Directory.CreateTempSubdirectory("evo-torch-parts-").FullName;
        try
        {
            string data = Path.Combine(root, "data");
            DemoTasks.WriteData(new MiniatureWorld().Splits, data);
            string dev = Path.Combine(data, "ja_math_dev.jsonl");
            File.WriteAllText(Path.Combine(root, "text.txt"), string.Concat(File.ReadLines(dev).Take(12)));
            string models = LoopbackCluster.DemoModels();
            var config = new EvolutionConfig
            {
                Name = "parts", BaseDirectory = root,
                BaseModel = Path.Combine(models, "base"), Models = [Path.Combine(models, "ja"), Path.Combine(models, "math")],
                Ps = new PsConfig { Method = "task_arithmetic", Parameters = ["weight"] },
                Fitness =
                [
                    DemoTasks.Fitness(data) with { Minibatch = null, Limit = 22 },
                    new TaskConfig { Task = "perplexity", Data = "text.txt", WindowChars = 48, ContextChars = 24 },
                ],
            };
            var options = new TorchEvaluatorOptions(Threads: 1, DType: ScalarType.Float32, BatchSize: 4);
            using var single = new TorchCandidateEvaluator(options);
            using var worker = new TorchCandidateEvaluator(options);
            var space = new PsSpace(config.Ps, config.BaseModel, config.Models, single.LayerCount(config.BaseModel));
            var build = space.Decode(Enumerable.Range(0, space.Dimension).Select(i => 0.3 + 0.1 * (i % 4)).ToArray());
            var other = space.Decode(Enumerable.Repeat(0.9, space.Dimension).ToArray());
            var tasks = TaskSpecs.Work(config.Fitness, null, config);

            var whole = single.EvaluateOne(build, tasks);
            worker.EvaluateOne(other, tasks);
            var items = tasks.Select(t => t.Subset.Resolve(Evaluation.EvalTasks.Create(t.Spec).Count)).ToArray();
            var pieces = ItemParts.Split(new CandidateWork("w", build, tasks), items, parts, 4);
            var results = pieces.Reverse().Select(p => worker.Evaluate([p], CancellationToken.None).Single()).Reverse().ToList();
            var combined = ItemParts.Combine("w", results);

            Assert.Equal(whole.Scores, combined.Scores);
            for (int k = 0; k < tasks.Count; k++)
            {
                Assert.Equal(whole.Tasks[k].Items, combined.Tasks[k].Items);
                Assert.Equal(whole.Tasks[k].ItemScores, combined.Tasks[k].ItemScores);
            }
            Assert.Equal(22, combined.Tasks[0].Items.Length);
            Assert.True(whole.Tasks[1].Items.Length >= 8, $"{whole.Tasks[1].Items.Length} perplexity windows");
        }
        finally { Directory.Delete(root, recursive: true); }
    }
}
