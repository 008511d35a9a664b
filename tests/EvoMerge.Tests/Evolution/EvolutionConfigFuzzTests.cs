using EvoMerge.Evolution.Config;
using EvoMerge.Tests.Merge;

namespace EvoMerge.Tests.Evolution;

/// <summary>
/// The recipe fuzz test's mutations applied to the documented evolve.yml: 1,000 mutants, each read (and validated)
/// or refused with <see cref="EvoMergeException"/> within 10 s. Reading needs no models, so this takes about a second.
/// </summary>
public class EvolutionConfigFuzzTests
{
    [Fact]
    public void Every_mutated_evolve_yml_reads_or_fails_with_EvoMergeException_in_bounded_time()
    {
        var random = new Random(20261204);
        int read = 0, refused = 0;
        for (int i = 0; i < 1000; i++)
        {
            string mutant = RecipeFuzzTests.Mutate(EvolutionConfigReaderTests.Example, random);
            var (finished, error) = RecipeFuzzTests.Bounded(() => EvolutionConfigReader.Parse(mutant, "evolve.yml", "/runs/here"));
            if (!finished) Assert.Fail($"mutant {i} did not finish within 10 s:\n{mutant}");
            switch (error)
            {
                case null: read++; break;
                case EvoMergeException: refused++; break;
                case var e: Assert.Fail($"mutant {i} threw {e}\n{mutant}"); break;
            }
        }
        Assert.True(read > 100 && refused > 300, $"read {read}, refused {refused}");
    }
}
