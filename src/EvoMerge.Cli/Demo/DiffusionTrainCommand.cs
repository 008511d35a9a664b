using System.ComponentModel;
using System.Diagnostics;
using EvoMerge.Demo.Diffusion;
using Spectre.Console;
using Spectre.Console.Cli;
using TorchSharp;

namespace EvoMerge.Cli.Demo;

/// <summary><c>evomerge demo train diffusion</c>: regenerates the diffusion demo's models (base, ja, lightning, judge) from a seed.</summary>
public sealed class DiffusionTrainCommand : Command<DiffusionTrainCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--out <DIR>")]
        [Description("Folder that receives base/, ja/, lightning/, judge/ and train-log.tsv (default: demo/models/diffusion).")]
        public string Out { get; init; } = Path.Combine("demo", "models", "diffusion");

        [CommandOption("--seed <N>")]
        [Description("Seed of initialisation, noise and data order (the shipped models use 0).")]
        public int Seed { get; init; }

        [CommandOption("--threads <N>")]
        [Description("Torch CPU threads. Training is deterministic for a given seed and thread count.")]
        public int Threads { get; init; } = 1;

        [CommandOption("--steps-scale <F>")]
        [Description("Fraction of every phase's training steps (1 = the shipped models; smaller for a quick check).")]
        public double StepsScale { get; init; } = 1.0;

        [CommandOption("--judge-only")]
        [Description("Train only the judge into <out>/judge (the same judge a full run with this seed makes).")]
        public bool JudgeOnly { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (!(settings.StepsScale > 0 && settings.StepsScale <= 10)) throw new EvoMergeException($"--steps-scale must be in (0, 10], got {settings.StepsScale}");
        torch.set_num_threads(settings.Threads);
        var clock = Stopwatch.StartNew();
        CliConsoles.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var tasks = new Dictionary<string, ProgressTask>();
                DiffusionDemoTrainer.TrainAll(settings.Out, settings.Seed, settings.StepsScale, new SyncProgress<DiffusionTrainingProgress>(p =>
                {
                    if (!tasks.TryGetValue(p.Model, out var task))
                        tasks[p.Model] = task = ctx.AddTask(p.Model, maxValue: p.Step.Steps);
                    task.Value = p.Step.Step;
                    task.Description = $"{p.Model} loss {p.Step.Loss:F4}";
                }), settings.JudgeOnly);
            });
        AnsiConsole.MarkupLineInterpolated($"Trained {(settings.JudgeOnly ? "the judge" : "base, ja, lightning and the judge")} into [bold]{settings.Out}[/] in {clock.Elapsed.TotalSeconds:F0} s.");
        return 0;
    }
}
