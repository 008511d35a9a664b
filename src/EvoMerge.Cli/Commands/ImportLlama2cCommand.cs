using System.ComponentModel;
using EvoMerge.Torch.Import;
using Spectre.Console.Cli;

namespace EvoMerge.Cli.Commands;

/// <summary><c>evomerge import llama2c</c>: a llama2.c checkpoint and tokenizer → a Hugging Face-style folder.</summary>
public sealed class ImportLlama2cCommand : Command<ImportLlama2cCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<checkpoint>")]
        [Description("llama2.c checkpoint (.bin, legacy version 0 format, e.g. stories260K.bin).")]
        public string Checkpoint { get; init; } = "";

        [CommandArgument(1, "<tokenizer>")]
        [Description("llama2.c tokenizer (.bin, e.g. tok512.bin).")]
        public string Tokenizer { get; init; } = "";

        [CommandArgument(2, "<out-dir>")]
        [Description("Output folder (must not exist or be empty).")]
        public string OutDir { get; init; } = "";
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        Llama2cImporter.Import(settings.Checkpoint, settings.Tokenizer, settings.OutDir,
            new StderrProgress());
        Console.Out.WriteLine($"wrote {settings.OutDir} (config.json, model.safetensors, tokenizer.bin, tokenizer_config.json)");
        return 0;
    }

    /// <summary>Reports on the caller's thread, so messages appear in order and before the result line.</summary>
    sealed class StderrProgress : IProgress<string>
    {
        public void Report(string value) => Console.Error.WriteLine(value);
    }
}
