using System.ComponentModel;
using Spectre.Console.Cli;

namespace EvoMerge.Cli.Commands;

public sealed class InspectCommand : Command<InspectCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<model>")]
        [Description("A model folder, a .safetensors file, or a cached Hugging Face id (org/name@revision).")]
        public string Model { get; init; } = "";

        [CommandOption("--json")]
        [Description("Print one JSON object instead of tables.")]
        public bool Json { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
        => throw new EvoMergeException("inspect is not implemented yet");
}
