using System.Globalization;
using EvoMerge.Torch.Demo;
using Spectre.Console;

namespace EvoMerge.Cli.Demo;

/// <summary>Prints the demo's progress as lines: each new phase, and each finished generation of a search.</summary>
sealed class DemoProgressPrinter(IAnsiConsole console) : IProgress<DemoProgress>
{
    string lastPhase = "";

    public void Report(DemoProgress p)
    {
        if (p.Search is { } s)
        {
            if (s.Evaluated == s.Population && s.Population > 0)
                console.MarkupLineInterpolated(
                    $"  [grey]{p.Phase}[/] {s.Stage} generation {s.Generation + 1}/{s.Generations?.ToString(CultureInfo.InvariantCulture) ?? "?"}: best {F(s.Best)} mean {F(s.Mean)} σ {F(s.Sigma)} ({s.EvaluationsPerSecond:0.0} evals/s)");
            else if (s.Message is { } m && s.Evaluated == 0)
                console.MarkupLineInterpolated($"  [grey]{p.Phase}[/] {m}");
            return;
        }
        if (p.Phase != lastPhase || p.Message.StartsWith("point", StringComparison.Ordinal) == false)
            console.MarkupLineInterpolated($"[bold]{p.Phase}[/]: {p.Message}");
        lastPhase = p.Phase;
    }

    static string F(double? v) => v is double x ? x.ToString("0.000", CultureInfo.InvariantCulture) : "–";
}
