using EvoMerge.Candidates;
using EvoMerge.Demo;
using EvoMerge.Evolution.Config;
using EvoMerge.Evolution.Spaces;

namespace EvoMerge.Demo.Tests;

public class DemoRecipeTextTests
{
    [Fact]
    public void PsRecipeReadsPerGroupAndModel()
    {
        var config = new PsConfig
        {
            LayerGroups = 2, EmbeddingsGroup = true, Parameters = ["weight", "density"],
            Ranges = new Dictionary<string, ParameterRange> { ["weight"] = new(0, 2), ["density"] = new(0, 1) },
        };
        var space = new PsSpace(config, "base", ["a", "b"], layerCount: 4);
        // Genome order: group, model, parameter; weight = 2u, density = u.
        double[] genome = [0.5, 0.5, 0.25, 0.1, 1, 1, 0, 0, 0.75, 0.2, 0.1, 0.9];
        Assert.Equal("embeddings: A w1.00 d0.50, B w0.50 d0.10; layers 0-1: A w2.00 d1.00, B w0.00 d0.00; layers 2-3: A w1.50 d0.20, B w0.20 d0.90",
            DemoRecipeText.Ps(space, genome, ["A", "B"]));
    }

    [Fact]
    public void DfsPathReadsAsSteps() =>
        Assert.Equal("A0×1.00 → B1×0.50 → A3×1.25",
            DemoRecipeText.Dfs(new LayerPath(["a", "b"], [new PathStep(0, 0, 1), new PathStep(1, 1, 0.5), new PathStep(0, 3, 1.25)]), ["A", "B"]));
}
