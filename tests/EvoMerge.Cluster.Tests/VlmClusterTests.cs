using EvoMerge.Candidates;
using EvoMerge.Cluster.Driver;
using EvoMerge.Demo.Vision;
using EvoMerge.Evaluation;
using EvoMerge.Torch.Evolution;
using EvoMerge.Torch.Vision.Runtime;
using static TorchSharp.torch;

namespace EvoMerge.Cluster.Tests;

/// <summary>
/// Workers with a LLaVA source resident (the runtime `evomerge worker` runs: the Torch evaluator with the vision
/// wing's loader, as `evolve` uses): the demo's V scored on Japanese VQA by two worker silos equals V scored in this
/// process, score and item scores bit for bit; and vqa work is never cut into parts.
/// </summary>
[Collection("cluster")]
public class VlmClusterTests
{
    [Fact]
    public async Task A_llava_source_scored_on_workers_equals_it_scored_in_one_process()
    {
        string root = Directory.CreateTempSubdirectory("evo-vlm-cluster-").FullName;
        try
        {
            string v = Path.Combine(LoopbackCluster.DemoModels(), VlmShape.Folder, VlmShape.VFolder);
            VlmDemoData.Write(VisionSplits.Create(3), root);
            var task = new TaskWork(VlmDemoRunner.Spec(Path.Combine(root, VlmDemoData.JaDevFile), japanese: true), Subset.First(6));
            var works = new[] { new CandidateWork("v", new SourceBuild(v), [task]), new CandidateWork("v-again", new SourceBuild(v), [task with { Subset = Subset.First(3) }]) };
            var options = new TorchEvaluatorOptions(Threads: 1, DType: ScalarType.Float32, BatchSize: 4, Residents: VlmResident.TryLoad);
            using var local = new TorchCandidateEvaluator(options);
            var expected = local.Evaluate(works, CancellationToken.None).ToList();

            FakeWorkers.Reset(TimeSpan.Zero, inner: () => new TorchCandidateEvaluator(options));
            await using var cluster = await FakeWorkers.Start(2);
            var evaluator = new ClusterCandidateEvaluator(cluster.Client, local, new ClusterEvaluatorOptions(TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(200), ItemAlign: 4));
            // One at a time: each call leaves a slot free, where a splittable candidate would be cut in two.
            var results = works.Select(w => evaluator.Evaluate([w], CancellationToken.None).Single()).ToDictionary(r => r.Key);

            foreach (var (work, want) in works.Zip(expected))
            {
                var got = results[work.Key];
                Assert.Equal(want.Scores, got.Scores);
                Assert.Equal(want.Tasks[0].Items, got.Tasks[0].Items);
                Assert.Equal(want.Tasks[0].ItemScores, got.Tasks[0].ItemScores);
            }
            Assert.Equal(0, evaluator.SplitCandidates);
            Assert.Equal(2, FakeWorkers.Scored.Count);
        }
        finally { Directory.Delete(root, recursive: true); }
    }
}
