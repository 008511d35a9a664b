using EvoMerge.Evolution;
using EvoMerge.Evolution.Spaces;

namespace EvoMerge.Tests.Evolution;

/// <summary>Thrown by the fakes to stop a run at a chosen moment, as kill -9 would (nothing after it runs).</summary>
sealed class SimulatedKill : Exception;

/// <summary>
/// A deterministic evaluator with a known optimum: a PS candidate scores 1 − ‖(w₀, w₁) − (0.7, 0.3)‖² on its
/// first layer group; a DFS path scores by how many steps match <see cref="TargetPath"/>. A minibatch adds a
/// small seed-dependent offset, so minibatch and full-dev scores differ as they would on real data.
/// A task named "pull" instead scores 1 − (w₀ − t)² with t its <c>Data</c> (conflicting objectives for NSGA-II).
/// </summary>
sealed class FakeEvaluator(int layers = 4) : ICandidateEvaluator
{
    public int Calls { get; private set; }
    public int? KillAtCall { get; init; }
    public List<Candidate> Evaluated { get; } = [];
    public static readonly (int Model, int Layer)[] TargetPath = [(0, 0), (1, 1), (1, 2), (0, 3)];

    public int LayerCount(string model) => layers;

    public CandidateEvaluation Evaluate(Candidate candidate, EvaluationRequest request, CancellationToken cancellationToken)
    {
        if (++Calls == KillAtCall) throw new SimulatedKill();
        Evaluated.Add(candidate);
        double score = candidate switch
        {
            PsCandidate { Recipe: var r } => 1 - Math.Pow(r.Value(0, 0, "weight") - 0.7, 2) - Math.Pow(r.Value(0, 1, "weight") - 0.3, 2),
            DfsCandidate { Path: var p } => p.Steps.Count(s => TargetPath.Contains((s.Model, s.Layer))) - 0.5 * p.Steps.Count,
            _ => 0.25,
        };
        double offset = request.MinibatchSeed is int seed ? (seed % 1000) / 1e5 : 0;
        return new CandidateEvaluation(request.Tasks.Select((task, k) => task.Task == "pull" && candidate is PsCandidate ps
                ? 1 - Math.Pow(ps.Recipe.Value(0, 0, "weight") - double.Parse(task.Data, System.Globalization.CultureInfo.InvariantCulture), 2)
                : score + offset + k).ToList(),
            BuildSeconds: 0.001, ScoreSeconds: 0.01);
    }

    public void WriteModel(Candidate candidate, string folder, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "candidate.txt"), candidate.ToString());
    }
}
