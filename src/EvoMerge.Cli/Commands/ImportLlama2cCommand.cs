using Spectre.Console.Cli;

namespace EvoMerge.Cli.Commands;

// Placeholder until its issue lands: registered so that the verb list is complete and each issue edits one file.
public sealed class ImportLlama2cCommand : Command<ImportLlama2cCommand.Settings>
{
    public sealed class Settings : CommandSettings { }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
        => throw new EvoMergeException("import llama2c is not implemented yet");
}
