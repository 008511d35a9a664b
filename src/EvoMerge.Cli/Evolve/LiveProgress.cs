using EvoMerge.Evolution;
using Spectre.Console;

namespace EvoMerge.Cli.Evolve;

/// <summary>Draws the engine's progress reports as one live bar per stage: generation, best, mean, σ, evals/s, ETA.</summary>
sealed class LiveProgress(ProgressContext context) : IProgress<EvolutionProgress>
{
    readonly Dictionary<string, ProgressTask> _bars = new();

    public void Report(EvolutionProgress p)
    {
        if (!_bars.TryGetValue(p.Stage, out var bar))
            _bars[p.Stage] = bar = context.AddTask(p.Stage, maxValue: 1);
        if (p.Message != null)
        {
            bar.Description = Markup.Escape($"{p.Stage}: {p.Message}");
            return;
        }
        if (p.Generations is int generations)
        {
            bar.MaxValue = Math.Max(1, generations * p.Population);
            bar.Value = Math.Min(bar.MaxValue, p.Generation * p.Population + p.Evaluated);
        }
        string Number(double? v, string format) => v is double d ? d.ToString(format) : "–";
        string eta = p.Remaining is TimeSpan r ? r.ToString(r.TotalHours >= 1 ? @"h\:mm\:ss" : @"m\:ss") : "–";
        bar.Description = Markup.Escape(
            $"{p.Stage} gen {p.Generation + (p.Evaluated > 0 ? 1 : 0)}/{p.Generations?.ToString() ?? "?"} " +
            $"cand {p.Evaluated}/{p.Population} best {Number(p.Best, "0.####")} mean {Number(p.Mean, "0.####")} " +
            $"σ {Number(p.Sigma, "0.####")} {p.EvaluationsPerSecond:0.##} evals/s ETA {eta}");
    }

    public void Complete()
    {
        foreach (var bar in _bars.Values) bar.Value = bar.MaxValue;
    }
}
