using System.Diagnostics;
using System.Globalization;
using System.Runtime.ExceptionServices;
using EvoMerge.Candidates;
using EvoMerge.Evolution.Config;
using EvoMerge.Evolution.M2n2;

namespace EvoMerge.Evolution.Run;

/// <summary>
/// The PS stage with M2N2: no generations. Up to <see cref="M2n2Config.InFlight"/> children are evaluated at once,
/// each as its own batch of one; every result is journaled and told the moment it completes, and the freed place is
/// filled by a new child drawn from the archive as it is then. The journal holds the tells in the order they
/// happened, with their per-item scores, so resume replays it line by line through a fresh optimiser (same seed):
/// each line must be the answer to a child the replay has asked (its build hash is checked), and the archive comes
/// out as it was. Children asked but not journaled when the run stopped are evaluated again.
/// </summary>
public sealed class SteadyStateLoop(
    EvolutionConfig config,
    M2n2Optimizer optimizer,
    ICandidateEvaluator evaluator,
    Journal journal,
    RunFolder folder,
    Action<ModelBuild> writeBest,
    IProgress<EvolutionProgress>? progress,
    CancellationToken cancellationToken)
{
    public const string Stage = "ps";
    readonly Stopwatch _wall = Stopwatch.StartNew();
    readonly List<GenerationStats> _history = [];
    readonly List<M2n2Step> _steps = [];
    readonly Dictionary<int, double> _fitness = new();   // child id → its fitness (the run's weighted task scores)
    int _fresh;
    double _buildSeconds, _scoreSeconds;
    JournalEntry? _best;

    public string ArchiveFile => Path.Combine(folder.Stage(Stage), "m2n2-archive.json");
    public string ReportFile => Path.Combine(folder.Stage(Stage), "m2n2-report.json");

    public StageResult Run()
    {
        int budget = config.Optimizer.MaxEvaluations ?? throw new EvoMergeException("optimizer.max_evaluations: m2n2 is steady state; give its budget in evaluations");
        int inFlight = optimizer.Settings.InFlight;
        var pending = new Dictionary<int, (CandidateWork Work, M2n2Child Child, Task<CandidateResult>? Task)>();
        var replay = journal.Entries.Where(e => e.Stage == Stage && e.Kind == EntryKinds.Search).ToList();
        int replayed = 0;
        while (true)
        {
            while (pending.Count < inFlight && optimizer.Asked < budget && optimizer.CanAsk)
            {
                var child = optimizer.Ask();
                var work = new CandidateWork(child.Id.ToString(CultureInfo.InvariantCulture), new BlendBuild(child.Recipe), TaskSpecs.Work(config.Fitness, null, config));
                pending[child.Id] = (work, child, null);
            }
            if (pending.Count == 0) break;
            if (replayed < replay.Count)
            {
                var old = replay[replayed++];
                if (!pending.TryGetValue(old.Generation, out var asked) || old.Hash != GenomeHash.Of(asked.Work.Build))
                    throw new EvoMergeException($"{folder.JournalFile}: m2n2 child {old.Generation} differs from what the optimiser asks now; " +
                        "the journal was made by another version, seed or config");
                pending.Remove(old.Generation);
                Tell(old, asked.Child, replaying: replayed < replay.Count);
                continue;
            }
            cancellationToken.ThrowIfCancellationRequested();
            var (id, result) = NextResult(pending, inFlight);
            var (w, c, _) = pending[id];
            pending.Remove(id);
            if (result.Tasks.Count != config.Fitness.Count)
                throw new InvalidOperationException($"evaluator returned {result.Tasks.Count} scores for {config.Fitness.Count} tasks");
            _fresh++;
            var scores = result.Scores;
            var entry = new JournalEntry(Stage, EntryKinds.Search, id, 0, Describe(c), null, GenomeHash.Of(w.Build), w.Build, null,
                scores, Fitness.Of(config.Fitness, scores), result.BuildSeconds, result.ScoreSeconds, Cached: false, ItemScores.Of(result),
                result.Failures);
            journal.Append(entry);
            Tell(entry, c, replaying: false);
        }
        if (_best is null) throw new EvoMergeException("m2n2: the search ended before its first evaluation");
        var report = M2n2Report.Create(optimizer, _steps, _fitness, _best.Generation);
        RunJson.WriteFile(ReportFile, report);
        RunJson.WriteAtomically(Path.ChangeExtension(ReportFile, ".md"), M2n2ReportText.Write(report, config.Models));
        WriteArchive();
        return new StageResult(Stage, _best, _history, optimizer.Asked, _steps.Count, 0, _buildSeconds, _scoreSeconds,
            _wall.Elapsed.TotalSeconds, []);
    }

    /// <summary>
    /// The next finished evaluation. One in flight: evaluated here, on this thread. More: each child is its own call
    /// on the thread pool (the evaluator must accept concurrent calls), and the first to finish is taken.
    /// </summary>
    (int Id, CandidateResult Result) NextResult(Dictionary<int, (CandidateWork Work, M2n2Child Child, Task<CandidateResult>? Task)> pending, int inFlight)
    {
        if (inFlight == 1)
        {
            var (id, (work, _, _)) = pending.First();
            return (id, Single(work));
        }
        foreach (var (id, (work, child, task)) in pending.ToList())
            if (task is null) pending[id] = (work, child, Task.Run(() => Single(work), cancellationToken));
        var running = pending.Values.Select(p => p.Task!).ToArray();
        int done = Task.WaitAny(running, cancellationToken);
        var finished = running[done];
        if (finished.Exception is { } e) ExceptionDispatchInfo.Capture(e.InnerException ?? e).Throw();
        return (pending.First(p => p.Value.Task == finished).Key, finished.Result);
    }

    CandidateResult Single(CandidateWork work)
    {
        var result = evaluator.Evaluate([work], cancellationToken).Single();
        return result.Key == work.Key ? result : throw new InvalidOperationException($"evaluator returned work '{result.Key}' for '{work.Key}'");
    }

    void Tell(JournalEntry entry, M2n2Child child, bool replaying)
    {
        var (items, rewards, values) = ItemRewards.Of(config.Fitness, entry.Items, $"{folder.JournalFile}: m2n2 child {child.Id}");
        int slot = optimizer.Tell(child.Id, items, rewards, values);
        _fitness[child.Id] = entry.Fitness;
        _buildSeconds += entry.BuildSeconds;
        _scoreSeconds += entry.ScoreSeconds;
        if (_best is null || entry.Fitness > _best.Fitness)
        {
            _best = entry;
            writeBest(entry.Candidate);
        }
        var members = optimizer.Slots.Where(s => s != null).Select(s => s!.Value).ToList();
        double coverage = optimizer.Coverage();
        _steps.Add(new M2n2Step(optimizer.Told - 1, child.Id, entry.Fitness, slot, members.Count, coverage));
        _history.Add(new GenerationStats(optimizer.Told - 1, entry.Fitness, members.Average(m => _fitness[m]),
            _best.Fitness, null, null));
        if (!replaying) WriteArchive();
        Report();
    }

    /// <summary>The archive now: each slot's member, its fitness and shared fitness (a snapshot for watching and for resume checks).</summary>
    void WriteArchive()
    {
        var shared = optimizer.SharedFitness();
        RunJson.WriteFile(ArchiveFile, new M2n2Archive(optimizer.Told, optimizer.Asked, optimizer.Coverage(),
            optimizer.Slots.Select((s, i) => s is int id ? new M2n2Member(i, id, _fitness[id], shared[i]) : null).ToList()));
    }

    string Describe(M2n2Child c) => c.Parents.Length == 0
        ? $"m2n2 source {c.Id}: {config.Models[c.Id]}"
        : $"m2n2 child {c.Id} of {c.Parents[0]} × {c.Parents[1]}, w {c.Weight:F3}" +
          (c.Split is long s ? $", split at {optimizer.Order.Describe(s)}" : "");

    /// <summary>A steady-state run reported as generations of one: generation = children told, of the budget.</summary>
    void Report()
    {
        if (progress is null) return;
        double seconds = _wall.Elapsed.TotalSeconds;
        int budget = config.Optimizer.MaxEvaluations!.Value;
        double perCandidate = _steps.Count > 0 ? (_buildSeconds + _scoreSeconds) / _steps.Count : 0;
        progress.Report(new EvolutionProgress(Stage, optimizer.Told, budget, 0, 1, _best?.Fitness,
            _history.Count > 0 ? _history[^1].Mean : null, null, seconds > 0 ? _fresh / seconds : 0,
            perCandidate > 0 ? TimeSpan.FromSeconds((budget - optimizer.Told) * perCandidate / optimizer.Settings.InFlight) : null));
    }
}
