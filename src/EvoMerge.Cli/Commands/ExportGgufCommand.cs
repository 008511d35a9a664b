using System.ComponentModel;
using EvoMerge.IO;
using EvoMerge.IO.Gguf;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EvoMerge.Cli.Commands;

/// <summary><c>evomerge export gguf &lt;model&gt; &lt;out.gguf&gt; [--type f32|f16|bf16|q8_0|q6_k|q5_k_m|q4_k_m|q4_0]</c>.</summary>
public sealed class ExportGgufCommand : Command<ExportGgufCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<model>")]
        [Description("A model folder, a .safetensors file next to its config.json, or a cached Hugging Face id (org/name@revision).")]
        public string Model { get; init; } = "";

        [CommandArgument(1, "<out.gguf>")]
        [Description("The GGUF file to write (written to a temporary name, then renamed).")]
        public string Output { get; init; } = "";

        [CommandOption("--type <TYPE>")]
        [Description("Storage type of weight matrices: f32, f16 (default, as llama.cpp's converter), bf16, q8_0, q6_k, q5_k_m, q4_k_m or q4_0, with llama.cpp quantize's per-tensor mix. Norms stay f32.")]
        [DefaultValue("f16")]
        public string Type { get; init; } = "f16";
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var type = GgufOutputTypes.Parse(settings.Type);
        string output = Path.GetFullPath(settings.Output);
        if (!Directory.Exists(Path.GetDirectoryName(output)))
            throw new EvoMergeException($"{settings.Output}: folder {Path.GetDirectoryName(output)} does not exist");
        using var model = ModelFolder.Open(settings.Model);
        CliConsoles.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask($"GGUF {settings.Type}");
                ModelFolderGgufExport.Export(model, output, type, new SyncProgress<GgufWriteProgress>(p =>
                {
                    task.MaxValue = p.Total;
                    task.Value = p.Done;
                    task.Description = p.Tensor.Length > 0 ? p.Tensor : $"GGUF {settings.Type}";
                }));
            });
        AnsiConsole.MarkupLineInterpolated($"wrote [bold]{output}[/] ({new FileInfo(output).Length / 1e6:F1} MB, {settings.Type})");
        return 0;
    }
}
