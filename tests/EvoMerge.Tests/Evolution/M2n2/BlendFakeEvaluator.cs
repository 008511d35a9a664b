using EvoMerge.Candidates;
using EvoMerge.Merge.Recipes;

namespace EvoMerge.Tests.Evolution.M2n2;

/// <summary>
/// A deterministic, thread-safe evaluator of blends for the loop's tests. There are <see cref="Items"/> items spread
/// evenly over the flattened parameters; item j is solved when the coefficient of source j mod n at its position is
/// at least 0.45, so each source solves its own items and only a child whose coefficients change along the model
/// (a split point) can solve items of both. A source build scores 0.25 (the comparison rows).
/// </summary>
sealed class BlendFakeEvaluator(long totalParameters) : ICandidateEvaluator
{
    public const int Items = 12;
    readonly object _gate = new();
    int _calls;

    public int Calls { get { lock (_gate) return _calls; } }
    public int? KillAtCall { get; init; }

    public int LayerCount(string model) => 2;

    public static double[] Rewards(BlendRecipe recipe, long totalParameters) => Enumerable.Range(0, Items).Select(j =>
    {
        long position = (2 * j + 1) * totalParameters / (2 * Items);
        return recipe.Segments[recipe.SegmentAt(position)].Coefficients[j % recipe.Models.Count] >= 0.45 ? 1.0 : 0.0;
    }).ToArray();

    public IEnumerable<CandidateResult> Evaluate(IReadOnlyList<CandidateWork> batch, CancellationToken cancellationToken)
    {
        foreach (var work in batch)
        {
            lock (_gate)
                if (++_calls == KillAtCall) throw new SimulatedKill();
            var rewards = work.Build is BlendBuild { Recipe: var r } ? Rewards(r, totalParameters) : Enumerable.Repeat(0.25, Items).ToArray();
            yield return new CandidateResult(work.Key, work.Tasks.Select(_ =>
                new TaskOutcome(rewards.Average(), Enumerable.Range(0, Items).ToArray(), rewards)).ToList(), 0.001, 0.01);
        }
    }

    public void WriteModel(ModelBuild build, string folder, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "candidate.txt"), build.GetType().Name);
    }
}
