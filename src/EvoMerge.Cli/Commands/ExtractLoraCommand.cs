using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using EvoMerge.IO;
using EvoMerge.Lora;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EvoMerge.Cli.Commands;

/// <summary><c>evomerge extract-lora &lt;fine-tune&gt; &lt;base&gt; &lt;out&gt; --rank R</c>: a PEFT adapter of the fine-tune's difference from its base.</summary>
public sealed class ExtractLoraCommand : Command<ExtractLoraCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<fine-tune>")]
        [Description("The fine-tuned model: a folder, a .safetensors file, or a cached Hugging Face id.")]
        public string FineTune { get; init; } = "";

        [CommandArgument(1, "<base>")]
        [Description("The model it was fine-tuned from (same tensor names and shapes).")]
        public string Base { get; init; } = "";

        [CommandArgument(2, "<out-dir>")]
        [Description("Folder for the adapter (must not exist or be empty): adapter_config.json, adapter_model.safetensors, README.md.")]
        public string OutDir { get; init; } = "";

        [CommandOption("--rank <R>")]
        [Description("LoRA rank (with --sv-epsilon: the largest rank a module gets).")]
        public int Rank { get; init; }

        [CommandOption("--sv-epsilon <E>")]
        [Description("Give each module its own rank: keep the singular values above E times its largest (0 < E < 1).")]
        public double? SvEpsilon { get; init; }

        [CommandOption("--save-module <NAME>")]
        [Description("Keep a module whole (PEFT modules_to_save), e.g. embed_tokens, lm_head, norm; repeatable.")]
        public string[] SaveModules { get; init; } = [];

        [CommandOption("--oversample <N>")]
        [Description("Extra random sketch columns beyond the rank (default 10).")]
        [DefaultValue(10)]
        public int Oversample { get; init; } = 10;

        [CommandOption("--power-iterations <N>")]
        [Description("Power iterations of the randomised SVD (default 2); more resolve flatter spectra.")]
        [DefaultValue(2)]
        public int PowerIterations { get; init; } = 2;

        [CommandOption("--dtype <DTYPE>")]
        [Description("Adapter dtype: float32, bfloat16 or float16 (default: the fine-tune's).")]
        public string? DType { get; init; }

        [CommandOption("--full-svd-max <N>")]
        [Description("Also run a full SVD on modules whose smaller side is at most N, to print the best possible error beside the achieved one (default 128; 0 = never).")]
        [DefaultValue(128)]
        public int FullSvdMax { get; init; } = 128;

        [CommandOption("--seed <N>")]
        [Description("Seed of the random sketches (default 0); the same seed gives the same adapter.")]
        public ulong Seed { get; init; }

        [CommandOption("--threads <N>")]
        [Description("Worker threads (default: all cores).")]
        public int Threads { get; init; }

        public override ValidationResult Validate() =>
            Rank < 1 ? ValidationResult.Error("--rank: expected a whole number of at least 1 (e.g. --rank 64)") : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        DType? dtype = settings.DType == null ? null : UserChoices.DType(settings.DType, "--dtype");
        if (dtype is not (null or IO.DType.F32 or IO.DType.BF16 or IO.DType.F16))
            throw new EvoMergeException($"--dtype: expected float32, bfloat16 or float16, got '{settings.DType}'");
        using var tuned = ModelFolder.Open(settings.FineTune);
        using var baseModel = ModelFolder.Open(settings.Base);
        var clock = Stopwatch.StartNew();
        LoraAdapter? adapter = null;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("factoring");
                var options = new LoraExtractionOptions
                {
                    Rank = settings.Rank, SvEpsilon = settings.SvEpsilon, SaveModules = settings.SaveModules, Oversample = settings.Oversample,
                    PowerIterations = settings.PowerIterations, OutDType = dtype, Seed = settings.Seed, FullSvdMaxSide = settings.FullSvdMax,
                    Threads = settings.Threads > 0 ? settings.Threads : Environment.ProcessorCount, Cancellation = cancellationToken,
                    Progress = new SyncProgress(p =>
                    {
                        task.MaxValue = p.ElementsTotal;
                        task.Value = p.ElementsDone;
                        task.Description = $"{p.ModulesDone}/{p.ModulesTotal} {p.Module}";
                    }),
                };
                adapter = LoraExtractor.Extract(tuned, baseModel, options);
                task.Description = "writing";
                PeftAdapterWriter.Write(adapter, tuned, settings.Base, settings.OutDir);
                task.Value = task.MaxValue;
            });
        PrintReport(adapter!);
        AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"wrote {settings.OutDir}: {adapter!.Modules.Count} modules, {adapter.Modules.Sum(m => (long)m.Rank * (m.Rows + m.Cols)) / 1e6:0.0} M adapter parameters in {clock.Elapsed.TotalSeconds:0.0} s")));
        return 0;
    }

    static void PrintReport(LoraAdapter adapter)
    {
        var table = new Table().AddColumns("module", "shape", "rank", "rel. error", "optimum (full SVD)");
        foreach (var m in adapter.Modules)
            table.AddRow(Markup.Escape(m.Name), $"{m.Rows}×{m.Cols}", m.Rank.ToString(CultureInfo.InvariantCulture),
                m.RelativeError.ToString("0.0000", CultureInfo.InvariantCulture),
                m.OptimalRelativeError?.ToString("0.0000", CultureInfo.InvariantCulture) ?? "-");
        AnsiConsole.Write(table);
        foreach (var w in adapter.Warnings) AnsiConsole.MarkupLine($"[yellow]warning:[/] {Markup.Escape(w)}");
    }

    sealed class SyncProgress(Action<LoraProgress> report) : IProgress<LoraProgress>
    {
        public void Report(LoraProgress value) => report(value);
    }
}
