using System.Diagnostics;
using EvoMerge.Candidates;
using EvoMerge.Evolution.Config;
using EvoMerge.Evolution.Spaces;

namespace EvoMerge.Evolution.Run;

/// <summary>
/// One stage of a run (PS or DFS): ask the optimiser for a generation, score each genome (from the journal when
/// the run is being resumed, from the cache when an identical candidate was scored on the same data, otherwise by
/// the evaluator, to which the rest of the generation goes as one batch), tell the optimiser, re-score the generation's best on the full dev set when fitness uses
/// minibatches, and leave the optimiser snapshot and best recipe in the run folder.
/// Resume works because the optimiser is deterministic: a fresh one with the same seed, told the journal's
/// fitness values in the same order, asks the same genomes again (checked bit for bit).
/// </summary>
public sealed class SearchLoop(
    EvolutionConfig config,
    ISearchSpace space,
    ICandidateEvaluator evaluator,
    Journal journal,
    RunFolder folder,
    Action<ModelBuild, string> writeBest,
    IProgress<EvolutionProgress>? progress,
    CancellationToken cancellationToken)
{
    readonly Dictionary<(string CandidateHash, int? Minibatch), JournalEntry> _cache = new();
    readonly Stopwatch _wall = Stopwatch.StartNew();
    readonly List<GenerationStats> _history = [];
    int _realEvaluations, _freshEvaluations, _cacheHits, _asked;
    double _buildSeconds, _scoreSeconds;
    JournalEntry? _best;

    public StageResult Run()
    {
        var optimizer = LoopOptimizer.Create(config.Optimizer, config.Seed, space.Dimension, ScoreAnchors() ?? space.Initial, config.Fitness.Count);
        double? sigma = null;
        for (int generation = 0; !Done(generation, optimizer); generation++)
        {
            var genomes = optimizer.Ask();
            int? minibatch = config.UsesMinibatches ? MinibatchSeed(generation) : null;
            var scored = ScoreAll(EntryKinds.Search, generation, genomes, minibatch, done => Report(generation, done, genomes.Count, sigma));
            _asked += genomes.Count;
            optimizer.Tell(scored);

            var contenders = minibatch is null ? scored : Rescore(generation, scored);
            var generationBest = contenders.MaxBy(e => e.Fitness)!;
            if (_best is null || generationBest.Fitness > _best.Fitness)
            {
                _best = generationBest;
                writeBest(_best.Candidate, space.Name);
            }
            var snapshot = optimizer.Snapshot();
            sigma = snapshot.State.TryGetValue("sigma", out var s) && s is double d ? d : null;
            RunJson.WriteFile(folder.OptimizerSnapshot(space.Name, generation), snapshot);
            _history.Add(new GenerationStats(generation, scored.Max(e => e.Fitness), scored.Average(e => e.Fitness),
                _best.Fitness, sigma, minibatch));
            Report(generation + 1, 0, optimizer.PopulationSize, sigma);
        }
        if (_best is null) throw new EvoMergeException($"{space.Name}: the search ended before its first generation");
        var front = optimizer.ParetoFront().Select(p => new ParetoEntry(p.Genome, p.Objectives.Select(o => -o).ToArray())).ToList();
        return new StageResult(space.Name, _best, _history, _asked, _realEvaluations, _cacheHits,
            _buildSeconds, _scoreSeconds, _wall.Elapsed.TotalSeconds, front);
    }

    /// <summary>
    /// Scores the space's anchors on the full dev set (journal kind "anchor", generation 0); the best, first on ties,
    /// becomes the incumbent and the optimiser's start. Null when the space has none.
    /// </summary>
    double[]? ScoreAnchors()
    {
        if (space.Anchors.Count == 0) return null;
        var scored = ScoreAll(EntryKinds.Anchor, 0, space.Anchors, minibatch: null, _ => { });
        _best = scored.MaxBy(e => e.Fitness)!;
        writeBest(_best.Candidate, space.Name);
        return _best.Genome;
    }

    bool Done(int generation, LoopOptimizer optimizer) =>
        (config.Optimizer.Generations is int g && generation >= g)
        || (config.Optimizer.MaxEvaluations is int max && _asked >= max)
        || (generation > 0 && optimizer.IsConverged && !config.Optimizer.Restarts);

    /// <summary>
    /// Each generation's minibatch differs, and is the same on resume and in any other process: a fixed function of
    /// seed, stage and generation (not <c>HashCode.Combine</c>, which .NET randomises per process).
    /// </summary>
    int MinibatchSeed(int generation) =>
        (int)(((uint)config.Seed * 1_000_003u + (space.Name == "ps" ? 1u : 2u) * 65_537u + (uint)generation) & int.MaxValue);

    /// <summary>The <see cref="EvolutionConfig.RescoreTop"/> best of a minibatch generation, scored on the full dev set.</summary>
    List<JournalEntry> Rescore(int generation, List<JournalEntry> scored) => ScoreAll(EntryKinds.Rescore, generation,
        scored.OrderByDescending(e => e.Fitness).ThenBy(e => e.Index).Take(Math.Max(1, config.RescoreTop)).Select(e => e.Genome!).ToList(),
        minibatch: null, _ => { });

    /// <summary>
    /// Scores genomes [0, n) of a generation (index = position): replayed from the journal, copied from the cache
    /// (also from an identical candidate earlier in the same batch), or sent to the evaluator together. Results may
    /// arrive in any order; journal lines are appended in index order, so a journal does not depend on the evaluator.
    /// </summary>
    List<JournalEntry> ScoreAll(string kind, int generation, IReadOnlyList<double[]> genomes, int? minibatch, Action<int> reportDone)
    {
        int n = genomes.Count;
        var entries = new JournalEntry?[n];
        var replayed = new bool[n];
        var copyOf = new int[n];                    // for a duplicate within the batch: the index scored; else −1
        var fresh = new Dictionary<string, int>();  // candidate hash → index sent to the evaluator
        var work = new List<CandidateWork>();
        var sent = new Dictionary<string, (int Index, ModelBuild Build)>();  // work key → what was asked, until answered
        for (int i = 0; i < n; i++)
        {
            copyOf[i] = -1;
            string genomeHash = GenomeHash.Of(genomes[i]);
            if (journal.Find(space.Name, kind, generation, i) is { } old)
            {
                if (old.Hash != genomeHash)
                    throw new EvoMergeException($"{folder.JournalFile}: {space.Name} generation {generation} candidate {i} differs from " +
                        "what the optimiser asks now; the journal was made by another version, seed or config");
                (entries[i], replayed[i]) = (old, true);
                Remember(old, minibatch);   // now, so that later indices find it in the cache, as they did when it was scored
                continue;
            }
            var build = space.Decode(genomes[i]);
            string buildHash = GenomeHash.Of(build);
            if (_cache.TryGetValue((buildHash, minibatch), out var earlier)) entries[i] = CachedCopy(earlier, kind, generation, i, genomes[i]);
            else if (fresh.TryGetValue(buildHash, out int first)) copyOf[i] = first;
            else
            {
                fresh[buildHash] = i;
                string key = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
                sent[key] = (i, build);
                work.Add(new CandidateWork(key, build, TaskSpecs.Work(config.Fitness, minibatch, config)));
            }
        }

        int next = 0;
        void Flush()
        {
            for (; next < n; next++)
            {
                if (entries[next] is null && copyOf[next] >= 0 && entries[copyOf[next]] is { } source)
                    entries[next] = CachedCopy(source, kind, generation, next, genomes[next]);
                if (entries[next] is not { } entry) return;
                if (!replayed[next])
                {
                    journal.Append(entry);
                    Remember(entry, minibatch);
                }
                reportDone(next + 1);
            }
        }
        Flush();
        if (work.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var result in evaluator.Evaluate(work, cancellationToken))
            {
                if (!sent.Remove(result.Key, out var asked))
                    throw new InvalidOperationException($"evaluator returned work '{result.Key}' twice or unasked");
                int i = asked.Index;
                if (result.Tasks.Count != config.Fitness.Count)
                    throw new InvalidOperationException($"evaluator returned {result.Tasks.Count} scores for {config.Fitness.Count} tasks");
                _freshEvaluations++;
                var scores = result.Scores;
                entries[i] = new JournalEntry(space.Name, kind, generation, i, null, genomes[i], GenomeHash.Of(genomes[i]), asked.Build,
                    minibatch, scores, Fitness.Of(config.Fitness, scores), result.BuildSeconds, result.ScoreSeconds, Cached: false, ItemScores.Of(result),
                    result.Failures);
                Flush();
            }
        }
        if (sent.Count > 0) throw new InvalidOperationException($"evaluator returned {work.Count - sent.Count} of {work.Count} results");
        return entries.Select(e => e!).ToList();
    }

    static JournalEntry CachedCopy(JournalEntry earlier, string kind, int generation, int index, double[] genome) => earlier with
    {
        Kind = kind, Generation = generation, Index = index, Genome = genome, Hash = GenomeHash.Of(genome),
        BuildSeconds = 0, ScoreSeconds = 0, Cached = true,
    };

    void Remember(JournalEntry entry, int? minibatch)
    {
        _cache.TryAdd((GenomeHash.Of(entry.Candidate), minibatch), entry);
        if (entry.Cached) _cacheHits++;
        else
        {
            _realEvaluations++;
            _buildSeconds += entry.BuildSeconds;
            _scoreSeconds += entry.ScoreSeconds;
        }
    }

    void Report(int generation, int evaluated, int population, double? sigma)
    {
        if (progress is null) return;
        double seconds = _wall.Elapsed.TotalSeconds;
        double perCandidate = _realEvaluations > 0 ? (_buildSeconds + _scoreSeconds) / _realEvaluations : 0;
        int? planned = config.Optimizer.Generations ?? (config.Optimizer.MaxEvaluations is int max ? (max + population - 1) / population : null);
        TimeSpan? remaining = planned is int p && perCandidate > 0
            ? TimeSpan.FromSeconds(Math.Max(0, (p - generation) * population - evaluated) * perCandidate)
            : null;
        progress.Report(new EvolutionProgress(space.Name, generation, planned, evaluated, population,
            _best?.Fitness, _history.Count > 0 ? _history[^1].Mean : null, sigma,
            seconds > 0 ? _freshEvaluations / seconds : 0, remaining));
    }
}

/// <summary>Fitness statistics of one generation (the report's fitness curve).</summary>
/// <param name="Best">Best fitness among the generation's candidates (on its minibatch, if any).</param>
/// <param name="Mean">Mean fitness of the generation's candidates.</param>
/// <param name="BestSoFar">Best fitness of the stage so far (full dev set when minibatches are used).</param>
public sealed record GenerationStats(int Generation, double Best, double Mean, double BestSoFar, double? Sigma, int? MinibatchSeed);

/// <summary>What a stage found and what it cost.</summary>
/// <param name="Asked">Genomes the optimiser asked for.</param>
/// <param name="Evaluations">Candidates built and scored (search and re-score), cache hits excluded.</param>
public sealed record StageResult(
    string Stage,
    JournalEntry Best,
    IReadOnlyList<GenerationStats> Generations,
    int Asked,
    int Evaluations,
    int CacheHits,
    double BuildSeconds,
    double ScoreSeconds,
    double WallSeconds,
    IReadOnlyList<ParetoEntry> ParetoFront);

/// <summary>A non-dominated candidate of a multi-objective (NSGA-II) stage: its genome and its score per fitness task.</summary>
public sealed record ParetoEntry(double[] Genome, double[] Scores);
