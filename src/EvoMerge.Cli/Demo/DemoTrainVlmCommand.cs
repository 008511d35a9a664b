using System.ComponentModel;
using System.Diagnostics;
using EvoMerge.Demo;
using EvoMerge.Demo.Vision;
using Spectre.Console;
using Spectre.Console.Cli;
using TorchSharp;

namespace EvoMerge.Cli.Demo;

/// <summary><c>evomerge demo train vlm</c>: trains the VLM demo's model V (tiny ViT + projector + the demo base LM) from a seed.</summary>
public sealed class DemoTrainVlmCommand : Command<DemoTrainVlmCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--out <DIR>")]
        [Description("Folder that receives v/ (a llava folder) and train-log.tsv (default: demo/models/vlm).")]
        public string Out { get; init; } = Path.Combine("demo", "models", VlmShape.Folder);

        [CommandOption("--models <DIR>")]
        [Description("Folder with the LLM demo's base/ (default: the repository's demo/models).")]
        public string? Models { get; init; }

        [CommandOption("--seed <N>")]
        [Description("Seed of initialisation and data order (the shipped model uses 0).")]
        public int Seed { get; init; }

        [CommandOption("--threads <N>")]
        [Description("Torch CPU threads. Training is deterministic for a given seed and thread count; the shipped model used 2.")]
        public int Threads { get; init; } = 2;

        [CommandOption("--steps-scale <F>")]
        [Description("Fraction of every stage's training steps (1 = the shipped model; smaller for a quick check).")]
        public double StepsScale { get; init; } = 1.0;
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        torch.set_num_threads(settings.Threads);
        var clock = Stopwatch.StartNew();
        string baseFolder = Path.Combine(settings.Models ?? ShippedModels.Find(), DemoModelShape.BaseFolder);
        CliConsoles.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var tasks = new Dictionary<string, ProgressTask>();
                VlmTrainer.Train(baseFolder, settings.Out, settings.Seed, stepsScale: settings.StepsScale, progress: new SyncProgress<DemoTrainingProgress>(p =>
                {
                    if (!tasks.TryGetValue(p.Model, out var task))
                        tasks[p.Model] = task = ctx.AddTask(p.Model, maxValue: p.Step.Steps);
                    task.Value = p.Step.Step;
                    task.Description = $"{p.Model} loss {p.Step.Loss:F3}";
                }));
            });
        AnsiConsole.MarkupLineInterpolated($"Trained V (tiny ViT + projector + base LM) into [bold]{Path.Combine(settings.Out, VlmShape.VFolder)}[/] in {clock.Elapsed.TotalSeconds:F0} s.");
        return 0;
    }
}
