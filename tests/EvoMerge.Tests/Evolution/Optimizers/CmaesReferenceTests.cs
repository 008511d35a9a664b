using System.Text.Json;
using EvoMerge.Evolution.Optimizers;
using EvoMerge.TestSupport;
using Xunit.Abstractions;

namespace EvoMerge.Tests.Evolution.Optimizers;

/// <summary>EvoMerge's CMA-ES against the <c>cmaes</c> library (issue 5's acceptance test).</summary>
public class CmaesReferenceTests(CmaesReference reference, ITestOutputHelper output) : IClassFixture<CmaesReference>
{
    [PythonReferenceFact("cmaes")]
    public void Median_evaluations_to_target_are_within_15_percent_of_cmaes_on_four_functions_in_10D()
    {
        var failures = new List<string>();
        var summary = new List<string>();
        foreach (var (name, (f, population, budget)) in CmaesReference.Functions)
        {
            var theirs = reference.Output.GetProperty("runs").GetProperty(name).EnumerateArray()
                .Select(e => e.ValueKind == JsonValueKind.Null ? (int?)null : e.GetInt32()).ToArray();
            var ours = Enumerable.Range(0, CmaesReference.Seeds)
                .Select(seed => CmaesReference.EvaluationsToTarget(
                    new CmaEs(10, new OptimizerOptions(Seed: seed, PopulationSize: population)), f, budget))
                .ToArray();
            double medianOurs = Median(ours), medianTheirs = Median(theirs);
            string line = $"{name}: median evaluations ours {medianOurs} (reached {ours.Count(e => e != null)}/{ours.Length}), " +
                          $"cmaes {medianTheirs} (reached {theirs.Count(e => e != null)}/{theirs.Length})";
            summary.Add(line);
            output.WriteLine(line);
            if (!(medianOurs <= 1.15 * medianTheirs)) failures.Add(line);
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures) + "\nall:\n" + string.Join("\n", summary));
    }

    /// <summary>Median with failures counted as +∞ (so a median that is a failure fails the comparison).</summary>
    static double Median(int?[] evaluations)
    {
        var sorted = evaluations.Select(e => e ?? double.PositiveInfinity).Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
