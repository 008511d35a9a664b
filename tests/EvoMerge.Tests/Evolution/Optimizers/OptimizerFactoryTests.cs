using EvoMerge.Evolution.Optimizers;
// Inside namespace EvoMerge.*.Evolution, "Optimizers" names the namespace first; the alias reaches the factory class.

namespace EvoMerge.Tests.Evolution.Optimizers;

public class OptimizerFactoryTests
{
    [Fact]
    public void Creates_each_named_optimiser()
    {
        Assert.IsType<CmaEs>(OptimizerFactory.Create("cma-es", 3, new OptimizerOptions()));
        Assert.Equal("cma-es-diagonal", OptimizerFactory.Create("cma-es-diagonal", 3, new OptimizerOptions()).Snapshot().Name);
        Assert.IsType<IpopCmaEs>(OptimizerFactory.Create("cma-es", 3, new OptimizerOptions(IpopRestarts: true)));
        Assert.IsType<RandomSearch>(OptimizerFactory.Create("random", 3, new OptimizerOptions()));
        Assert.IsType<Nsga2>(OptimizerFactory.CreateMultiObjective("nsga-ii", 3, 2, new OptimizerOptions()));
    }

    [Fact]
    public void Unknown_names_list_the_valid_ones()
    {
        var e = Assert.Throws<EvoMergeException>(() => OptimizerFactory.Create("cmaes", 3, new OptimizerOptions()));
        Assert.Equal("optimizer.name: unknown optimiser 'cmaes'; expected one of cma-es, cma-es-diagonal, random", e.Message);
        Assert.Contains("several objectives", Assert.Throws<EvoMergeException>(() => OptimizerFactory.Create("nsga-ii", 3, new OptimizerOptions())).Message);
        Assert.Contains("nsga-ii", Assert.Throws<EvoMergeException>(() => OptimizerFactory.CreateMultiObjective("cma-es", 3, 2, new OptimizerOptions())).Message);
    }
}
