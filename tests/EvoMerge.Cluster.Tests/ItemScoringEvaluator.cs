using System.Collections.Concurrent;
using EvoMerge.Candidates;
using EvoMerge.Evaluation;
using EvoMerge.Evolution.Run;

namespace EvoMerge.Cluster.Tests;

/// <summary>
/// An evaluator that scores the real tasks of the work, item by item, with a stand-in model whose every answer and
/// log-likelihood is a fixed function of the build and the prompt: a part of a candidate gets exactly the item
/// outcomes the whole would, so only the cluster's cutting and recombination stand between them and the
/// single-process scores. Reports no build time and 1 ms of scoring per item.
/// </summary>
sealed class ItemScoringEvaluator : ICandidateEvaluator
{
    readonly ConcurrentDictionary<EvalTaskSpec, IEvalTask> _tasks = new();

    public int LayerCount(string model) => 4;

    public IEnumerable<CandidateResult> Evaluate(IReadOnlyList<CandidateWork> batch, CancellationToken cancellationToken)
    {
        foreach (var work in batch)
        {
            var model = new BuildModel(GenomeHash.Of(work.Build));
            var outcomes = work.Tasks.Select(t => TaskOutcome.Of(_tasks.GetOrAdd(t.Spec, EvalTasks.Create).Evaluate(model, t.Subset, new EvalRunOptions(2)))).ToList();
            yield return new CandidateResult(work.Key, outcomes, 0, outcomes.Sum(o => o.Items.Length) / 1000.0);
        }
    }

    public void WriteModel(ModelBuild build, string folder, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "candidate.txt"), build.ToString());
    }

    sealed class BuildModel(string build) : ILanguageModel
    {
        public IReadOnlyList<string> Generate(IReadOnlyList<string> prompts, GenerationOptions options) =>
            prompts.Select(p => $"{Hash(build + p) % 3}").ToArray();

        public IReadOnlyList<ContinuationScore> ScoreContinuations(IReadOnlyList<ContinuationRequest> requests) =>
            requests.Select(r => new ContinuationScore(-Math.Sqrt(Hash(build + r.Context + r.Continuation) % 10_000 / 97.0) - 1 / 3.0,
                r.Continuation.Length / 3 + 1, false)).ToArray();

        /// <summary>FNV-1a: a fixed function of the text (string.GetHashCode is randomised per process).</summary>
        static ulong Hash(string text)
        {
            ulong h = 14695981039346656037;
            foreach (char c in text) h = (h ^ c) * 1099511628211;
            return h;
        }
    }
}
