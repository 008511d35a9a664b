using System.ComponentModel;
using System.Net;
using System.Net.Sockets;
using EvoMerge.Cluster;
using EvoMerge.Cluster.Worker;
using EvoMerge.Torch.Evolution;
using EvoMerge.Torch.Runtime;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EvoMerge.Cli.Commands;

/// <summary><c>evomerge worker --cluster &lt;spec&gt;</c>: join a cluster and score what drivers send (docs/cluster.md).</summary>
public sealed class WorkerCommand : Command<WorkerCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--cluster <SPEC>"), Description("localhost, or redis://HOST:PORT or postgres://USER@HOST:PORT/DB for many machines.")]
        public string Cluster { get; init; } = "";

        [CommandOption("--cluster-id <ID>"), Description("Name of the cluster (several may share one Redis)."), DefaultValue("evomerge")]
        public string ClusterId { get; init; } = "evomerge";

        [CommandOption("--name <NAME>"), Description("Shown by the driver (default: host name and process id).")]
        public string? Name { get; init; }

        [CommandOption("--slots <N>"), Description("Candidates scored at once, each with its own resident models."), DefaultValue(1)]
        public int Slots { get; init; } = 1;

        [CommandOption("--threads <N>"), Description("CPU threads per slot (default: all cores / slots).")]
        public int? Threads { get; init; }

        [CommandOption("--dtype <DTYPE>"), Description("Weights in memory: bf16 (default) or f32."), DefaultValue("bf16")]
        public string DType { get; init; } = "bf16";

        [CommandOption("--batch-size <N>"), Description("Prompts per forward pass."), DefaultValue(16)]
        public int BatchSize { get; init; } = 16;

        [CommandOption("--scratch <DIR>"), Description("Where fitness commands get each candidate's model folder (default: the system temp folder).")]
        public string? Scratch { get; init; }

        [CommandOption("--advertise <IP>"), Description("Address other machines reach this one at (default: loopback for localhost, else this host's first IPv4).")]
        public string? Advertise { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (settings.Cluster == "") throw new EvoMergeException("worker: --cluster is required (localhost, redis://HOST:PORT or postgres://USER@HOST:PORT/DB)");
        var spec = ClusterSpec.Parse(settings.Cluster, settings.ClusterId);
        int threads = settings.Threads ?? Math.Max(1, Environment.ProcessorCount / Math.Max(1, settings.Slots));
        var options = new TorchEvaluatorOptions(threads, DeviceOptions.ParseDType(settings.DType), settings.BatchSize,
            Residents: EvoMerge.Torch.Vision.Runtime.VlmResident.TryLoad);   // a LLaVA among the sources, as in evolve
        string name = settings.Name ?? $"{Environment.MachineName}-{Environment.ProcessId}";
        string advertise = settings.Advertise ?? (spec.Kind == ClusterSpec.Backend.Localhost ? "127.0.0.1" : ThisHostAddress());
        TorchWorker.Run(spec, name, settings.Slots, options, advertise, line => AnsiConsole.WriteLine(line), cancellationToken, settings.Scratch)
            .GetAwaiter().GetResult();
        return 0;
    }

    static string ThisHostAddress() =>
        Dns.GetHostAddresses(Dns.GetHostName()).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))?.ToString()
        ?? "127.0.0.1";
}
