using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;

namespace EvoMerge.Cluster.Worker;

public static class WorkerHosting
{
    /// <summary>Makes a silo an EvoMerge worker: its slots and their evaluators (membership is configured apart).</summary>
    public static ISiloBuilder AddEvoMergeWorker(this ISiloBuilder silo, WorkerOptions options)
    {
        if (options.Slots < 1) throw new EvoMergeException($"worker {options.Name}: slots must be at least 1 (got {options.Slots})");
        silo.Services.AddSingleton(options);
        silo.Services.AddSingleton<WorkerSlots>();
        return silo;
    }
}
