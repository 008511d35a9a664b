using System.ComponentModel;
using EvoMerge.Candidates;
using EvoMerge.Cli.Evolve;
using EvoMerge.Cluster;
using EvoMerge.Cluster.Driver;
using EvoMerge.Evolution;
using EvoMerge.Evolution.Config;
using EvoMerge.Evolution.Run;
using EvoMerge.Evolution.External;
using EvoMerge.Torch.Evolution;
using EvoMerge.Torch.Runtime;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EvoMerge.Cli.Commands;

/// <summary><c>evomerge evolve &lt;evolve.yml&gt;</c>: search for the best merge recipe, with live progress.</summary>
public sealed class EvolveCommand : Command<EvolveCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<evolve.yml>")]
        [Description("The run's config (schema: docs/evolution.md).")]
        public string Config { get; init; } = "";

        [CommandOption("--run-dir <DIR>")]
        [Description("Run folder (default: runs/<name> beside the config).")]
        public string? RunDirectory { get; init; }

        [CommandOption("--resume")]
        [Description("Continue the run in the run folder (after a crash or kill); nothing is evaluated twice.")]
        public bool Resume { get; init; }

        [CommandOption("--threads <N>")]
        [Description("CPU threads for merging and inference (default: all cores).")]
        public int? Threads { get; init; }

        [CommandOption("--dtype <DTYPE>")]
        [Description("Weights in memory: bf16 (default, fast on CPUs with bf16 units) or f32.")]
        public string DType { get; init; } = "bf16";

        [CommandOption("--batch-size <N>")]
        [Description("Prompts per forward pass (default 16).")]
        public int BatchSize { get; init; } = 16;

        [CommandOption("--scratch <DIR>")]
        [Description("Where fitness commands get each candidate's model folder (a RAM disk such as /dev/shm/evomerge saves disk writes; default: the system temp folder).")]
        public string? Scratch { get; init; }

        [CommandOption("--cluster <SPEC>")]
        [Description("Score candidates on the workers of this cluster (localhost, redis://HOST:PORT or postgres://USER@HOST:PORT/DB; see docs/cluster.md).")]
        public string? Cluster { get; init; }

        [CommandOption("--cluster-id <ID>")]
        [Description("Name of the cluster (as given to its workers).")]
        [DefaultValue("evomerge")]
        public string ClusterId { get; init; } = "evomerge";
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var config = EvolutionConfigReader.ReadFile(settings.Config);
        string runDirectory = settings.RunDirectory ?? Path.Combine(config.BaseDirectory, "runs", config.Name);
        var options = new TorchEvaluatorOptions(settings.Threads ?? Environment.ProcessorCount, DeviceOptions.ParseDType(settings.DType), settings.BatchSize,
            Residents: EvoMerge.Torch.Vision.Runtime.VlmResident.TryLoad);   // a LLaVA among the sources (vqa fitness)
        using var scratch = new ScratchSpace(settings.Scratch);
        var local = new TorchCandidateEvaluator(options);
        // Fitness commands run where candidates are scored: here, or on each worker (which has its own --scratch).
        using var here = new ExternalFitnessEvaluator(local, scratch);
        var spec = settings.Cluster is { } c ? ClusterSpec.Parse(c, settings.ClusterId) : null;
        using var connection = spec is null ? null
            : ClusterConnection.Connect(spec, TimeSpan.FromMinutes(2), cancellationToken).GetAwaiter().GetResult();

        // The workers' status for the dashboard; a single-process resume drops a cluster run's stale one.
        var folder = new RunFolder(runDirectory);
        using var statusFile = connection is null ? null : new ClusterStatusFile(folder);
        if (connection is null && settings.Resume && File.Exists(folder.WorkersFile)) File.Delete(folder.WorkersFile);

        EvolutionResult? result = null;
        ClusterCandidateEvaluator? cluster = null;
        CliConsoles.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(ctx =>
            {
                var progress = new LiveProgress(ctx);
                // On a cluster the driver keeps its local evaluator for layer counts and the final model folder.
                ICandidateEvaluator evaluator = connection is null ? here
                    : cluster = new ClusterCandidateEvaluator(connection.Client, local,
                        ClusterEvaluatorOptions.Default with { ItemAlign = settings.BatchSize }, new ClusterLiveStatus(ctx, statusFile));
                result = EvolutionRunner.Run(config, evaluator, runDirectory, new RunOptions(settings.Resume), progress, cancellationToken);
                progress.Complete();
            });

        var table = new Table().AddColumn("model");
        var tasks = result!.Summary.Models.SelectMany(m => m.TestScores.Keys).Distinct().ToList();
        foreach (var t in tasks) table.AddColumn(new TableColumn(t).RightAligned());
        table.AddColumn(new TableColumn("dev fitness").RightAligned());
        foreach (var row in result.Summary.Models)
            table.AddRow([Markup.Escape(row.Label), .. tasks.Select(t => row.TestScores.TryGetValue(t, out double v) ? v.ToString("0.####") : ""),
                row.DevFitness?.ToString("0.####") ?? ""]);
        AnsiConsole.Write(table);
        foreach (var s in result.Summary.Stages)
            AnsiConsole.MarkupLineInterpolated(
                $"{s.Stage}: {s.Evaluations} evaluations ({s.CacheHits} cached), per candidate {s.BuildSecondsPerCandidate:0.###} s build + {s.ScoreSecondsPerCandidate:0.###} s scoring (overhead {s.OverheadRatio:P1})");
        if (cluster is not null) ClusterLiveStatus.WriteTable(cluster.Workers);
        if (cluster is not null) statusFile?.Report(new ClusterStatus(DateTime.UtcNow, cluster.Workers, 0, 0, null));   // all work done
        statusFile?.Dispose();   // the final status on disk before the run is reported done
        if (statusFile?.Failure is { } failure) AnsiConsole.MarkupLineInterpolated($"[yellow]warning:[/] {failure}");
        AnsiConsole.MarkupLineInterpolated($"run folder: {result.RunDirectory} (evomerge report {result.RunDirectory})");
        return 0;
    }
}
