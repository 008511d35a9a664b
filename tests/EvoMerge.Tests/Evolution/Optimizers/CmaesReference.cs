using System.Text.Json;
using EvoMerge.Evolution.Optimizers;
using EvoMerge.TestSupport;

namespace EvoMerge.Tests.Evolution.Optimizers;

/// <summary>
/// Runs <c>cmaes_reference.py</c> (the <c>cmaes</c> library, through Debian's Python) once for all tests of a class,
/// and the same benchmark setting for EvoMerge's CMA-ES: the unit box mapped to [-5,5]^10, optimum shifted off the
/// start, start 0.5, σ₀ = 1/6, bounds [0,1], evaluations counted per generation up to the first below 1e-8.
/// </summary>
public sealed class CmaesReference
{
    public const int Seeds = 15;
    const int N = 10;
    const double Target = 1e-8;

    readonly Lazy<JsonElement> _output = new(RunScript);

    /// <summary>The script's JSON: "parameters" (cmaes' internal constants) and "runs" (evaluations per seed).</summary>
    public JsonElement Output => _output.Value;

    static JsonElement RunScript()
    {
        string script = Path.Combine(SharedData.RepoRoot, "tests/EvoMerge.Tests/Evolution/Optimizers/cmaes_reference.py");
        var (exit, stdout, stderr) = PythonReference.Run($"\"{script}\" {Seeds}", TimeSpan.FromMinutes(3));
        Assert.True(exit == 0, $"cmaes_reference.py failed: {stderr}");
        return JsonDocument.Parse(stdout).RootElement.Clone();
    }

    /// <summary>The benchmark functions, by the names the script uses: (function of the unit-box point, population, budget).</summary>
    public static readonly IReadOnlyDictionary<string, (Func<double[], double> F, int? Population, int Budget)> Functions =
        new Dictionary<string, (Func<double[], double>, int?, int)>
        {
            ["sphere"] = (Sphere, null, 20000),
            ["ellipsoid"] = (Ellipsoid, null, 50000),
            ["rosenbrock"] = (Rosenbrock, null, 50000),
            // multimodal: a population at which both implementations reach the global optimum in nearly every trial
            ["rastrigin"] = (Rastrigin, 800, 200000),
        };

    /// <summary>Evaluations until a generation's best is below the target; null when the budget or a stop criterion ends the run first.</summary>
    public static int? EvaluationsToTarget(IOptimizer optimizer, Func<double[], double> f, int budget)
    {
        int evaluations = 0;
        while (evaluations < budget)
        {
            var fitness = optimizer.Ask().Select(f).ToArray();
            evaluations += fitness.Length;
            if (fitness.Min() < Target) return evaluations;
            optimizer.Tell(fitness);
            if (optimizer.IsConverged) return null;
        }
        return null;
    }

    static double Shift(int i) => -2.0 + 4.0 * i / (N - 1);   // numpy.linspace(-2, 2, 10)
    static double ToBox(double u) => 10 * u - 5;

    static double Sphere(double[] u) => Enumerable.Range(0, N).Sum(i => Math.Pow(ToBox(u[i]) - Shift(i), 2));

    static double Ellipsoid(double[] u) =>
        Enumerable.Range(0, N).Sum(i => Math.Pow(10, 6.0 * i / (N - 1)) * Math.Pow(ToBox(u[i]) - Shift(i), 2));

    static double Rosenbrock(double[] u) => Enumerable.Range(0, N - 1).Sum(i =>
    {
        double x = ToBox(u[i]), next = ToBox(u[i + 1]);
        return 100 * Math.Pow(next - x * x, 2) + Math.Pow(1 - x, 2);
    });

    static double Rastrigin(double[] u) => 10 * N + Enumerable.Range(0, N).Sum(i =>
    {
        double z = ToBox(u[i]) - Shift(i);
        return z * z - 10 * Math.Cos(2 * Math.PI * z);
    });
}
