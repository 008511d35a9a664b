using System.Diagnostics;
using EvoMerge.Candidates;
using EvoMerge.Evaluation;
using EvoMerge.Evaluation.External;
using EvoMerge.Evolution.Output;
using EvoMerge.IO;

namespace EvoMerge.Evolution.External;

/// <summary>
/// The evaluator for fitness commands (<see cref="TaskKind.Command"/>), in front of an in-process one. Per candidate:
/// the model is written to a fresh scratch folder (a source model is passed as it is), each command runs on it and
/// its JSON of scores becomes the task's outcome, the folder is removed. A failed try (non-zero exit, timeout,
/// missing or malformed scores) is retried or skipped as the command's policy says, and kept with the last lines of
/// the program's stderr in the result, hence in the journal; a failure the policy does not absorb stops the run
/// with an error naming the command, the try and the reason. Work without command tasks passes straight through to
/// <c>inProcess</c>, which also scores the other tasks of mixed work. Without an in-process evaluator (null) it
/// needs no libtorch: candidates are written by the core's merge engine. Disposing it disposes the in-process one.
/// </summary>
/// <param name="inProcess">Scores the engine's tasks, counts layers and writes models; null when every task is a command.</param>
/// <param name="dtype">Weights of written candidates when there is no in-process evaluator: bfloat16 or float32.</param>
public sealed class ExternalFitnessEvaluator(ICandidateEvaluator? inProcess, ScratchSpace scratch, string dtype = "bfloat16")
    : ICandidateEvaluator, IDisposable
{
    public int LayerCount(string model)
    {
        if (inProcess is not null) return inProcess.LayerCount(model);
        using var folder = ModelFolder.Open(Lora.Folding.LoraReference.Split(model).Model);   // a LoRA changes no layer count
        return folder.LayerCount;
    }

    public void WriteModel(ModelBuild build, string folder, CancellationToken cancellationToken)
    {
        if (inProcess is not null) inProcess.WriteModel(build, folder, cancellationToken);
        else CandidateModelWriter.Write(build, folder, LayerCount(build.ReferenceModel), dtype);
    }

    static bool IsCommand(TaskWork task) => task.Spec.Kind == TaskKind.Command;

    public IEnumerable<CandidateResult> Evaluate(IReadOnlyList<CandidateWork> batch, CancellationToken cancellationToken)
    {
        if (!batch.Any(w => w.Tasks.Any(IsCommand)))
        {
            foreach (var result in InProcess.Evaluate(batch, cancellationToken)) yield return result;
            yield break;
        }
        var byKey = batch.ToDictionary(w => w.Key);
        var mixed = batch.Where(w => !w.Tasks.All(IsCommand)).Select(w => w with { Tasks = w.Tasks.Where(t => !IsCommand(t)).ToList() }).ToList();
        if (mixed.Count > 0)
            foreach (var partial in InProcess.Evaluate(mixed, cancellationToken))
                yield return Complete(byKey[partial.Key], partial, cancellationToken);
        foreach (var work in batch.Where(w => w.Tasks.All(IsCommand)))
            yield return Complete(work, null, cancellationToken);
    }

    ICandidateEvaluator InProcess => inProcess
        ?? throw new EvoMergeException("only fitness commands can be scored here (no in-process evaluator); the config lists other tasks");

    /// <summary>The work's command tasks scored on the written model, merged with <paramref name="partial"/>'s outcomes of the other tasks.</summary>
    CandidateResult Complete(CandidateWork work, CandidateResult? partial, CancellationToken cancellationToken)
    {
        var outcomes = new TaskOutcome[work.Tasks.Count];
        int next = 0;
        for (int k = 0; k < outcomes.Length; k++)
            if (!IsCommand(work.Tasks[k])) outcomes[k] = partial!.Tasks[next++];
        var failures = new List<ScorerFailure>(partial?.Failures ?? []);
        double build = partial?.BuildSeconds ?? 0, score = partial?.ScoreSeconds ?? 0;

        using var folder = scratch.NewCandidate();
        var watch = Stopwatch.StartNew();
        string model = folder.Model;
        // A source is scored where it is, like in-process; a model+lora source is written with its LoRA folded in.
        if (work.Build is SourceBuild source && Lora.Folding.LoraReference.Split(source.Model).Lora == null) model = source.Model;
        else WriteModel(work.Build, model, cancellationToken);
        build += watch.Elapsed.TotalSeconds;
        watch.Restart();
        for (int k = 0; k < outcomes.Length; k++)
            if (IsCommand(work.Tasks[k])) outcomes[k] = Score(work.Tasks[k].Spec, k, model, folder, failures, cancellationToken);
        score += watch.Elapsed.TotalSeconds;
        return new CandidateResult(work.Key, outcomes, build, score, failures.Count > 0 ? failures : null);
    }

    /// <summary>Runs a command until a try gives scores or the tries are used up; then the policy decides.</summary>
    static TaskOutcome Score(EvalTaskSpec spec, int task, string model, CandidateFolder folder, List<ScorerFailure> failures,
        CancellationToken cancellationToken)
    {
        var command = spec.Command!;
        int tries = 1 + (command.Policy == FailurePolicy.Fail ? 0 : command.Retries);
        for (int attempt = 1; ; attempt++)
        {
            string output = folder.Scores(task, attempt);
            var run = ScorerProcess.Run(command.For(model, output), spec.DataPath, command.TimeoutSeconds, cancellationToken, folder.Record);
            string? error = run.TimedOut ? $"did not finish within {command.TimeoutSeconds:0.###} s; it and every process it started were killed"
                : run.ExitCode != 0 ? $"exited with code {run.ExitCode}"
                : null;
            if (error is null && ScoreFile.Read(output, out error) is var (total, items))
                return new TaskOutcome(total, Enumerable.Range(0, items.Length).ToArray(), items);
            var failure = new ScorerFailure(task, attempt, error!, run.StderrTail);
            if (attempt < tries)
            {
                failures.Add(failure);
                continue;
            }
            if (command.Policy == FailurePolicy.Skip)
            {
                failures.Add(failure with { Skipped = true });
                return new TaskOutcome(command.SkipScore!.Value, [], []);
            }
            throw new EvoMergeException(Describe(command, failure, tries));
        }
    }

    /// <summary>The error of a failure that stops the run: one line saying what failed, then the program's last stderr lines.</summary>
    static string Describe(ScorerCommand command, ScorerFailure failure, int tries)
    {
        string message = $"fitness command '{command.Text}' {failure.Error}" + (tries > 1 ? $" (try {failure.Try} of {tries})" : "");
        return failure.Stderr.Count == 0 ? message + "; it wrote nothing to stderr"
            : message + $"; the last {failure.Stderr.Count} line(s) of its stderr:" + string.Concat(failure.Stderr.Select(l => "\n  " + l));
    }

    public void Dispose() => (inProcess as IDisposable)?.Dispose();
}
