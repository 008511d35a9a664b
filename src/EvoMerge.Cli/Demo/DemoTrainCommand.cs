using System.ComponentModel;
using System.Diagnostics;
using EvoMerge.Demo;
using Spectre.Console;
using Spectre.Console.Cli;
using TorchSharp;

namespace EvoMerge.Cli.Demo;

/// <summary><c>evomerge demo train</c>: regenerates the shipped demo models (base, ja, math) from a seed.</summary>
public sealed class DemoTrainCommand : Command<DemoTrainCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--out <DIR>")]
        [Description("Folder that receives base/, ja/, math/, joint/ and train-log.tsv (default: demo/models).")]
        public string Out { get; init; } = Path.Combine("demo", "models");

        [CommandOption("--seed <N>")]
        [Description("Seed of initialisation and data order (the shipped models use 0).")]
        public int Seed { get; init; }

        [CommandOption("--threads <N>")]
        [Description("Torch CPU threads. Training is deterministic for a given seed and thread count; the shipped models used 2.")]
        public int Threads { get; init; } = 2;

        [CommandOption("--steps-scale <F>")]
        [Description("Fraction of every phase's training steps (1 = the shipped models; smaller for a quick check).")]
        public double StepsScale { get; init; } = 1.0;
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        torch.set_num_threads(settings.Threads);
        var clock = Stopwatch.StartNew();
        CliConsoles.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var tasks = new Dictionary<string, ProgressTask>();
                DemoTrainer.TrainAll(settings.Out, settings.Seed, stepsScale: settings.StepsScale, progress: new SyncProgress<DemoTrainingProgress>(p =>
                {
                    if (!tasks.TryGetValue(p.Model, out var task))
                        tasks[p.Model] = task = ctx.AddTask(p.Model, maxValue: p.Step.Steps);
                    task.Value = p.Step.Step;
                    task.Description = $"{p.Model} loss {p.Step.Loss:F3}";
                }));
            });
        AnsiConsole.MarkupLineInterpolated($"Trained base, A (ja), B (math) and the joint fine-tune into [bold]{settings.Out}[/] in {clock.Elapsed.TotalSeconds:F0} s.");
        return 0;
    }
}
