using System.Text.Json;
using EvoMerge.Evolution.Optimizers;

namespace EvoMerge.Tests.Evolution.Optimizers;

/// <summary>Snapshots go to the run folder as JSON after every generation: they must serialise, failures included.</summary>
public class SnapshotTests
{
    public static TheoryData<string, bool> Names => new()
    {
        { "cma-es", false }, { "cma-es", true }, { "cma-es-diagonal", false }, { "random", false },
    };

    [Theory]
    [MemberData(nameof(Names))]
    public void Snapshots_serialise_to_JSON_after_failed_evaluations(string name, bool ipop)
    {
        var optimizer = OptimizerFactory.Create(name, 3, new OptimizerOptions(Seed: 1, IpopRestarts: ipop));
        for (int g = 0; g < 5; g++)
            optimizer.Tell(optimizer.Ask().Select((x, k) => k == 0 ? double.NaN : x.Sum()).ToArray());
        var json = JsonDocument.Parse(JsonSerializer.Serialize(optimizer.Snapshot())).RootElement;
        Assert.Equal(name, json.GetProperty("Name").GetString());
        Assert.Equal(5, json.GetProperty("Generation").GetInt32());
        Assert.Equal(optimizer.PopulationSize, json.GetProperty("State").GetProperty("population_size").GetInt32());
    }

    [Fact]
    public void NSGA_II_snapshot_writes_failed_objectives_as_null()
    {
        var nsga = new Nsga2(2, 2, new OptimizerOptions(Seed: 1, PopulationSize: 4));
        nsga.Tell(nsga.Ask().Select((x, k) => k == 0 ? [double.NaN, 1.0] : new[] { x[0], x[1] }).ToArray());
        var state = JsonDocument.Parse(JsonSerializer.Serialize(nsga.Snapshot())).RootElement.GetProperty("State");
        var objectives = state.GetProperty("population_objectives").EnumerateArray().ToArray();
        Assert.Equal(4, objectives.Length);
        Assert.Contains(objectives, o => o[0].ValueKind == JsonValueKind.Null);
    }
}
