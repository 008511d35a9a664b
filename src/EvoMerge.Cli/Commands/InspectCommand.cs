using System.ComponentModel;
using System.Text.Json;
using EvoMerge.Cli.Inspect;
using EvoMerge.IO;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EvoMerge.Cli.Commands;

/// <summary><c>evomerge inspect</c>: a model's structure from its headers and config.json, as tables or one JSON object.</summary>
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
    {
        using var model = ModelFolder.Open(settings.Model);
        var summary = ModelSummary.Of(model);
        if (settings.Json)
        {
            // Through Console.Out (not the raw stdout stream), so callers that redirect the console see it too.
            var buffer = new MemoryStream();
            using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
                summary.WriteJson(json);
            Console.Out.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        }
        else
        {
            foreach (var part in ModelSummaryView.Render(summary)) AnsiConsole.Write(part);
        }
        return 0;
    }
}
