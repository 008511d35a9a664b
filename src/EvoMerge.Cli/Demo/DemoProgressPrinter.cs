using System.Globalization;
using EvoMerge.Demo;
using Spectre.Console;

namespace EvoMerge.Cli.Demo;

/// <summary>
/// Prints the demo's progress as lines: each phase as it starts, each finished generation of a search (with the
/// best and mean dev fitness of the generations done so far), and the engine's messages (writing, testing).
/// </summary>
sealed class DemoProgressPrinter(IAnsiConsole console) : IProgress<DemoProgress>
{
    string lastPhase = "";

    public void Report(DemoProgress p)
    {
        if (p.Search is { } s)
        {
            if (s.Message is { } message)
                console.MarkupLineInterpolated($"  [grey]{p.Phase}[/] {message}");
            else if (s.Evaluated == s.Population && s.Population > 0)
                console.MarkupLineInterpolated(
                    $"  [grey]{p.Phase}[/] {s.Stage} generation {s.Generation + 1}/{s.Generations?.ToString(CultureInfo.InvariantCulture) ?? "?"} done, {s.EvaluationsPerSecond:0.0} evals/s; before it: best {F(s.Best)} mean {F(s.Mean)} σ {F(s.Sigma)}");
            return;
        }
        if (p.Phase != lastPhase) console.MarkupLineInterpolated($"[bold]{p.Phase}[/]: {p.Message}");
        lastPhase = p.Phase;
    }

    static string F(double? v) => v is double x ? x.ToString("0.000", CultureInfo.InvariantCulture) : "–";
}
