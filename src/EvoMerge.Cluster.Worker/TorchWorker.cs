using EvoMerge.Evolution.External;
using EvoMerge.Torch.Evolution;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EvoMerge.Cluster.Worker;

/// <summary>
/// <c>evomerge worker</c>: a silo whose slots each keep a <see cref="TorchCandidateEvaluator"/> (source models loaded
/// once, resident) and score what the driver sends, until stopped. One process per device: on a GPU machine start
/// one per GPU with <c>CUDA_VISIBLE_DEVICES</c>; on CPUs, slots × threads should not exceed the cores. Fitness
/// commands run here too, on candidates written under <c>scratch</c>.
/// </summary>
public static class TorchWorker
{
    /// <param name="advertisedHost">The address other machines reach this one at (loopback for localhost and tests).</param>
    /// <param name="scratch">Where fitness commands get candidates' model folders (null: the system temp folder).</param>
    public static async Task Run(ClusterSpec spec, string name, int slots, TorchEvaluatorOptions evaluator, string advertisedHost,
        Action<string> log, CancellationToken cancellationToken, string? scratch = null)
    {
        await spec.PrepareBackend(cancellationToken);
        using var scratchSpace = new ScratchSpace(scratch);
        var options = new WorkerOptions(name, slots, _ => new ExternalFitnessEvaluator(new TorchCandidateEvaluator(evaluator), scratchSpace),
            BatchSize: evaluator.BatchSize);
        using var host = Host.CreateDefaultBuilder([])
            .ConfigureLogging(l => l.ClearProviders())
            .UseOrleans(silo =>
            {
                spec.ConfigureSilo(silo, advertisedHost);
                silo.AddEvoMergeWorker(options);
            })
            .Build();
        await host.StartAsync(cancellationToken);
        log($"worker {name}: {slots} slot(s) × {evaluator.Threads} thread(s) joined {spec.Describe()}; waiting for work (Ctrl+C stops)");
        try { await Task.Delay(Timeout.Infinite, cancellationToken); }
        catch (OperationCanceledException) { }
        log($"worker {name}: leaving the cluster");
        await host.StopAsync(TimeSpan.FromSeconds(10));
    }
}
