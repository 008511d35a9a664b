using Spectre.Console.Cli;

namespace EvoMerge.Cli.Commands;

// Placeholder until its issue lands: registered so that the verb list is complete and each issue edits one file.
public sealed class EvalCommand : Command<EvalCommand.Settings>
{
    public sealed class Settings : CommandSettings { }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
        => throw new EvoMergeException("eval is not implemented yet");
}
