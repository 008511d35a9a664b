using EvoMerge.Evolution.Optimizers;

namespace EvoMerge.Tests.Evolution.Optimizers;

public class IpopCmaEsTests
{
    [Fact]
    public void A_converged_run_restarts_with_twice_the_population()
    {
        var ipop = new IpopCmaEs(5, new OptimizerOptions(Seed: 2));
        Assert.Equal(8, ipop.PopulationSize);
        int generations = 0;
        while (ipop.Restarts == 0)
        {
            ipop.Tell(ipop.Ask().Select(_ => 1.0).ToArray());   // flat: TolFun stops after 10 + ⌈30·5/8⌉ generations
            Assert.True(++generations < 100, "no restart on a flat function");
        }
        Assert.Equal(10 + (int)Math.Ceiling(30 * 5 / 8.0) + 1, generations);
        Assert.Equal(16, ipop.PopulationSize);
        Assert.Equal(generations, ipop.Generation);
        Assert.False(ipop.IsConverged);
        Assert.Equal(1, ipop.Snapshot().State["restarts"]);
    }

    /// <summary>Rastrigin in 5-D from a default population: restarts with growing populations find the global optimum.</summary>
    [Fact]
    public void Restarts_solve_a_multimodal_function_that_a_single_run_does_not()
    {
        static double Rastrigin(double[] u) => u.Sum(v =>
        {
            double z = 10 * v - 5 - 1.2;   // box [-5,5], optimum at 1.2
            return z * z - 10 * Math.Cos(2 * Math.PI * z) + 10;
        });

        int singleRunsSolved = 0, ipopSolved = 0;
        for (int seed = 0; seed < 3; seed++)
        {
            if (BestFound(new CmaEs(5, new OptimizerOptions(Seed: seed)), Rastrigin) < 1e-6) singleRunsSolved++;
            if (BestFound(new IpopCmaEs(5, new OptimizerOptions(Seed: seed)), Rastrigin) < 1e-6) ipopSolved++;
        }
        Assert.True(ipopSolved == 3 && singleRunsSolved < 3, $"IPOP solved {ipopSolved}/3, single runs {singleRunsSolved}/3");
    }

    static double BestFound(IOptimizer optimizer, Func<double[], double> f)
    {
        double best = double.PositiveInfinity;
        for (int evaluations = 0; evaluations < 100_000 && !optimizer.IsConverged && best >= 1e-6;)
        {
            var fitness = optimizer.Ask().Select(f).ToArray();
            evaluations += fitness.Length;
            best = Math.Min(best, fitness.Min());
            optimizer.Tell(fitness);
        }
        return best;
    }
}
