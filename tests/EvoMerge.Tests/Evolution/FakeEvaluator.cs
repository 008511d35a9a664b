using System.Globalization;
using EvoMerge.Candidates;

namespace EvoMerge.Tests.Evolution;

/// <summary>Thrown by the fakes to stop a run at a chosen moment, as kill -9 would (nothing after it runs).</summary>
sealed class SimulatedKill : Exception;

/// <summary>
/// A deterministic evaluator with a known optimum: a merge scores 1 − ‖(w₀, w₁) − (0.7, 0.3)‖² on its first layer
/// group; a layer path scores by how many steps match <see cref="TargetPath"/>. A minibatch (a sampled subset) adds
/// a small offset, so minibatch and full-dev scores differ as they would on real data. A task whose data file is
/// named <c>pull-t</c> instead scores 1 − (w₀ − t)² (conflicting objectives for NSGA-II). Each task reports
/// three items whose scores average to the task's score.
/// </summary>
sealed class FakeEvaluator(int layers = 4) : ICandidateEvaluator
{
    public int Calls { get; private set; }
    public int? KillAtCall { get; init; }
    public List<ModelBuild> Evaluated { get; } = [];
    public static readonly (int Model, int Layer)[] TargetPath = [(0, 0), (1, 1), (1, 2), (0, 3)];

    public int LayerCount(string model) => layers;

    public IEnumerable<CandidateResult> Evaluate(IReadOnlyList<CandidateWork> batch, CancellationToken cancellationToken)
    {
        foreach (var work in batch)
        {
            if (++Calls == KillAtCall) throw new SimulatedKill();
            Evaluated.Add(work.Build);
            yield return new CandidateResult(work.Key, work.Tasks.Select((task, k) => Outcome(Score(work.Build, task, k))).ToList(), 0.001, 0.01);
        }
    }

    static double Score(ModelBuild build, TaskWork task, int k)
    {
        string data = Path.GetFileName(task.Spec.DataPath);
        if (data.StartsWith("pull-", StringComparison.Ordinal) && build is MergeBuild pull)
            return 1 - Math.Pow(pull.Recipe.Value(0, 0, "weight") - double.Parse(data[5..], CultureInfo.InvariantCulture), 2);
        double score = build switch
        {
            MergeBuild { Recipe: var r } => 1 - Math.Pow(r.Value(0, 0, "weight") - 0.7, 2) - Math.Pow(r.Value(0, 1, "weight") - 0.3, 2),
            PathBuild { Path: var p } => p.Steps.Count(s => TargetPath.Contains((s.Model, s.Layer))) - 0.5 * p.Steps.Count,
            _ => 0.25,
        };
        // A minibatch is a seeded sample; its seed is not visible through the subset, so its resolution is the offset.
        double offset = task.Subset.Resolve(1000) is { Length: < 1000 } sample ? sample.Sum() % 1000 / 1e5 : 0;
        return score + offset + k;
    }

    static TaskOutcome Outcome(double score) => new(score, [0, 1, 2], [score - 0.5, score, score + 0.5]);

    public void WriteModel(ModelBuild build, string folder, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "candidate.txt"), build.ToString());
    }
}
