using EvoMerge.Candidates;
using EvoMerge.Cluster.Driver;
using EvoMerge.Evaluation;
using EvoMerge.Evolution.Run;
using EvoMerge.Merge.Recipes;
using EvoMerge.Anatomy;
using EvoMerge.Tests.Evolution;

namespace EvoMerge.Cluster.Tests;

/// <summary>A worker whose files differ from the driver's is refused, and says so; the others carry on.</summary>
[Collection("cluster")]
public class RefusalTests
{
    static readonly ClusterEvaluatorOptions Fast = new(TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(200));

    static List<CandidateWork> Batch(int n) => Enumerable.Range(0, n).Select(i => new CandidateWork($"{i}",
        new MergeBuild(new GroupedRecipe("task_arithmetic", "/m/base", ["/m/a", "/m/b"], ["weight"],
            [new TensorGroup("all", 0, 3, [GroupPart.Embeddings, GroupPart.Attention, GroupPart.Mlp, GroupPart.Head])],
            [[[0.1 * i], [0.5]]]), new Dictionary<string, double>(), 7),
        [new TaskWork(new EvalTaskSpec(TaskKind.Jsonl, "/data/dev.jsonl", StopStrings: ["\n"]), Subset.Sample(5, i))])).ToList();

    [Fact]
    public async Task A_worker_with_other_files_is_refused_with_a_clear_message_and_the_rest_do_the_work()
    {
        FakeWorkers.Reset(TimeSpan.FromMilliseconds(20));
        FakeWorkers.Tampered = name => int.Parse(name["fake-".Length..]) % 2 == 1;
        await using var cluster = await FakeWorkers.Start(2);
        var statuses = new List<ClusterStatus>();
        var evaluator = new ClusterCandidateEvaluator(cluster.Client, new FakeEvaluator(), Fast, new SyncProgress(statuses));

        var batch = Batch(6);
        var results = evaluator.Evaluate(batch, CancellationToken.None).ToList();

        var expected = new FakeEvaluator().Evaluate(batch, CancellationToken.None).ToList();
        Assert.Equal(expected.Select(r => (r.Key, string.Join(",", r.Scores))).Order(),
            results.Select(r => (r.Key, string.Join(",", r.Scores))).Order());
        var refused = Assert.Single(evaluator.Workers, w => w.State == "refused");
        string message = Assert.Single(statuses.Select(s => s.Message).OfType<string>().Where(m => m.Contains("refused")).Distinct());
        Assert.Contains($"worker {refused.Name} refused", message);
        Assert.Contains("differs from the driver's", message);
    }

    [Fact]
    public async Task When_every_worker_is_refused_the_run_stops_with_their_names()
    {
        FakeWorkers.Reset(TimeSpan.FromMilliseconds(20));
        FakeWorkers.Tampered = _ => true;
        await using var cluster = await FakeWorkers.Start(1);
        var evaluator = new ClusterCandidateEvaluator(cluster.Client, new FakeEvaluator(), Fast);

        var error = Assert.Throws<EvoMergeException>(() => evaluator.Evaluate(Batch(2), CancellationToken.None).ToList());
        Assert.Contains("every live worker refused", error.Message);
        Assert.Contains(Assert.Single(evaluator.Workers).Name, error.Message);
        Assert.Empty(FakeWorkers.Scored);
    }

    sealed class SyncProgress(List<ClusterStatus> statuses) : IProgress<ClusterStatus>
    {
        public void Report(ClusterStatus value) { lock (statuses) statuses.Add(value); }
    }
}
