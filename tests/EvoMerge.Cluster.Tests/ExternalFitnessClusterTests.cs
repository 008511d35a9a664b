using EvoMerge.Candidates;
using EvoMerge.Cluster.Driver;
using EvoMerge.Cluster.Worker;
using EvoMerge.Evaluation;
using EvoMerge.Evaluation.External;
using EvoMerge.Evolution;
using EvoMerge.Evolution.Config;
using EvoMerge.Evolution.External;
using EvoMerge.Evolution.Run;
using EvoMerge.TestSupport;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace EvoMerge.Cluster.Tests;

/// <summary>
/// Fitness commands on the cluster path: each worker slot fronts its evaluator with an
/// <see cref="ExternalFitnessEvaluator"/>, so the Python scorer runs where the candidate is scored, and the journal
/// equals a single-process run's.
/// </summary>
[Collection("cluster")]
public class ExternalFitnessClusterTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("evo-extcluster-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static ScratchSpace? _workerScratch;   // the silos are built by type, so what they share is static
    static int _silos;

    sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo)
        {
            silo.Configure<ClusterMembershipOptions>(ClusterSpec.FastFailureDetection);
            silo.AddEvoMergeWorker(new WorkerOptions($"ext-{Interlocked.Increment(ref _silos)}", 1,
                _ => new ExternalFitnessEvaluator(null, _workerScratch!, "float32")));
        }
    }

    [Fact]
    public async Task Workers_run_the_fitness_command_and_the_journal_equals_a_single_process_run()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "models"));
        ConstantModels.WriteSources(Path.Combine(_dir, "models"));
        var config = EvolutionConfigReader.Parse($"""
            name: ext
            seed: 4
            base_model: ./models/base
            models: [./models/a, ./models/b]
            ps: {"{"} method: task_arithmetic, parameters: [weight] {"}"}
            optimizer: {"{"} population: 4, generations: 2 {"}"}
            fitness:
              - {"{"} command: "python3 {ConstantModels.Scorer} score {"{model}"} {"{out}"}" {"}"}
            test:
              - {"{"} command: "python3 {ConstantModels.Scorer} score {"{model}"} {"{out}"}" {"}"}
            """, "evolve.yml", _dir);
        string single = Path.Combine(_dir, "single"), clustered = Path.Combine(_dir, "cluster");
        using (var singleScratch = new ScratchSpace(Path.Combine(_dir, "single-scratch")))
            EvolutionRunner.Run(config, new ExternalFitnessEvaluator(null, singleScratch, "float32"), single);

        using var driverScratch = new ScratchSpace(Path.Combine(_dir, "driver-scratch"));
        using var workerScratch = _workerScratch = new ScratchSpace(Path.Combine(_dir, "worker-scratch"));
        var local = new ExternalFitnessEvaluator(null, driverScratch, "float32");   // layer counts and the best model only

        var builder = new TestClusterBuilder(2);
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        await using var cluster = builder.Build();
        await cluster.DeployAsync();
        var evaluator = new ClusterCandidateEvaluator(cluster.Client, local, new ClusterEvaluatorOptions(TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(200)));
        await Task.Run(() => EvolutionRunner.Run(config, evaluator, clustered));

        Assert.Equal(Untimed(single), Untimed(clustered));
        Assert.All(evaluator.Workers, w => Assert.True(w.Results > 0, $"{w.Name} scored nothing"));
        Assert.Equal(8 + 3, evaluator.Workers.Sum(w => w.Results));   // every candidate and test row went to a worker
        Assert.False(Directory.Exists(Path.Combine(_dir, "driver-scratch")), "the driver ran a fitness command");
    }

    [Fact]
    public void Command_work_and_a_result_with_failures_cross_the_wire_unchanged()
    {
        var command = new ScorerCommand(["python3", "my score.py", "{model}", "--out={out}"], 900, 2, FailurePolicy.Skip, -1.5);
        var work = new CandidateWork("3", new SourceBuild("/m/a"), [new TaskWork(new EvalTaskSpec(TaskKind.Command, "/cfg", Command: command), Subset.All)]);
        var back = WorkWire.DecodeWork(WorkWire.Encode(work)).Tasks[0].Spec;
        Assert.Equal((TaskKind.Command, "/cfg"), (back.Kind, back.DataPath));
        Assert.Equal(command.Arguments, back.Command!.Arguments);
        Assert.Equal((900.0, 2, FailurePolicy.Skip, (double?)-1.5), (back.Command.TimeoutSeconds, back.Command.Retries, back.Command.Policy, back.Command.SkipScore));

        var result = new CandidateResult("3", [new TaskOutcome(-1.5, [], [])], 0.5, 2,
            [new ScorerFailure(0, 1, "exited with code 3", ["Traceback (most recent call last):", "  ValueError: x"], Skipped: true)]);
        var failure = Assert.Single(WorkWire.DecodeResult(WorkWire.Encode(result), "3").Failures!);
        Assert.Equal((0, 1, "exited with code 3", true), (failure.Task, failure.Try, failure.Error, failure.Skipped));
        Assert.Equal(result.Failures![0].Stderr, failure.Stderr);
    }

    static List<string> Untimed(string run) => File.ReadAllLines(new RunFolder(run).JournalFile)
        .Select(line =>
        {
            var entry = System.Text.Json.Nodes.JsonNode.Parse(line)!.AsObject();
            entry.Remove("build_seconds");
            entry.Remove("score_seconds");
            return entry.ToJsonString();
        })
        .ToList();
}
