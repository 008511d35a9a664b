using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using EvoMerge.Moe;
using EvoMerge.Torch.Moe;
using EvoMerge.Torch.Runtime;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EvoMerge.Cli.Commands;

/// <summary><c>evomerge moe &lt;config.yml&gt; &lt;out-dir&gt;</c>: a Mixtral mixture of experts from dense models, in mergekit-moe's config format.</summary>
public sealed class MoeCommand : Command<MoeCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<config>")]
        [Description("mergekit-moe YAML: base_model, gate_mode (hidden, hidden_avg, cheap_embed, random, uniform_random), dtype, experts_per_token, experts (source_model, positive_prompts, negative_prompts).")]
        public string Config { get; init; } = "";

        [CommandArgument(1, "<out-dir>")]
        [Description("Folder for the Mixtral model (must not exist or be empty).")]
        public string OutDir { get; init; } = "";

        [CommandOption("--seed <N>")]
        [Description("Seed of random gates and expert noise (default 0).")]
        public int Seed { get; init; }

        [CommandOption("--allow-identical-experts")]
        [Description("Build even when every expert is the same model (only useful before training; mergekit's --i-understand-this-is-not-useful-without-training).")]
        public bool AllowIdenticalExperts { get; init; }

        [CommandOption("--device <DEVICE>")]
        [Description("Where the base model runs for gate_mode hidden: cpu (default), cuda or cuda:N.")]
        public string Device { get; init; } = "cpu";
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var config = MoeConfigParser.Load(settings.Config);
        foreach (var w in config.Warnings) AnsiConsole.MarkupLine($"[yellow]warning:[/] {Markup.Escape(w)}");
        var device = DeviceOptions.ParseDevice(settings.Device);
        DeviceOptions.UseThreads();
        var clock = Stopwatch.StartNew();
        MoeBuildResult? result = null;
        AnsiConsole.Status().Start("opening models", status =>
        {
            result = MoeBuilder.Build(config, settings.OutDir, new MoeBuildOptions
            {
                Seed = settings.Seed,
                AllowIdenticalExperts = settings.AllowIdenticalExperts,
                HiddenStates = folder => new TorchHiddenStateSource(folder, device),
                Progress = new Progress(step => status.Status(Markup.Escape(step))),
                Cancellation = cancellationToken,
            });
        });
        foreach (var w in result!.Warnings.Skip(config.Warnings.Count)) AnsiConsole.MarkupLine($"[yellow]warning:[/] {Markup.Escape(w)}");
        AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"wrote {settings.OutDir}: Mixtral, {result.Layers} layers × {result.Experts} experts ({result.ExpertsPerToken} per token), " +
            $"gate_mode {MoeBuilder.ModeName(config.GateMode)}, {result.Parameters / 1e6:0.0} M parameters {result.DType} in {clock.Elapsed.TotalSeconds:0.0} s")));
        return 0;
    }

    /// <summary>Reports synchronously, on the building thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    sealed class Progress(Action<string> report) : IProgress<string>
    {
        public void Report(string value) => report(value);
    }
}
