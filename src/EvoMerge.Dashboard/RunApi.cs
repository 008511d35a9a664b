using System.Text.RegularExpressions;
using EvoMerge.Candidates;
using EvoMerge.Evolution.Config;
using EvoMerge.Evolution.Optimizers;
using EvoMerge.Evolution.Run;
using EvoMerge.Evolution;
using EvoMerge.Reporting;

namespace EvoMerge.Dashboard;

/// <summary>What the API sends for a run, built from a <see cref="RunSnapshot"/> (series come from the shared <see cref="RunData"/> reader).</summary>
static partial class RunApi
{
    public static RunListItem ListItem(RunSnapshot s)
    {
        var stages = RunData.StagesOf(s.Entries);
        return new RunListItem(s.Run.Id, NameOf(s), SpaceOf(s), StatusName(s.Status),
            stages.Count > 0 ? stages.Max(st => st.Winner.Fitness) : null,
            s.Entries.Count(e => e.Kind != EntryKinds.Test && !e.Cached), WallSeconds(s), LastUpdate(s), s.Errors);
    }

    /// <param name="from">Candidates already sent to this client: only later rows are included.</param>
    public static RunDetail Detail(RunSnapshot s, int from = 0)
    {
        var entries = s.Entries;
        var rowOf = new Dictionary<JournalEntry, int>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < entries.Count; i++) rowOf[entries[i]] = i;
        bool multi = s.Config is { } c && OptimizerFactory.MultiObjectiveNames.Contains(c.Optimizer.Name);
        var stages = RunData.StagesOf(entries).Select(st => Stage(st, entries, rowOf, multi)).ToList();
        var tasks = s.Config is { } config ? Enumerable.Range(0, config.Fitness.Count).Select(k => EvolutionRunner.TaskKey(config.Fitness, k)).ToList()
            : Enumerable.Range(0, entries.Where(e => e.Kind != EntryKinds.Test).Select(e => e.Scores.Length).DefaultIfEmpty(0).Max()).Select(k => $"task {k + 1}").ToList();
        var rows = entries.Skip(Math.Clamp(from, 0, entries.Count)).Select((e, i) => Row(from + i, e)).ToList();
        return new RunDetail(s.Run.Id, NameOf(s), SpaceOf(s), StatusName(s.Status), StatusDetail(s), s.Config is { } cfg ? ConfigView.From(cfg) : null,
            tasks, multi, stages, rows, entries.Count, s.Summary, s.Workers, Downloads(s, stages), ModelFolder(s.Run.Folder), s.Errors, s.Version, s.Generation);
    }

    static StageView Stage(StageData stage, IReadOnlyList<JournalEntry> entries, Dictionary<JournalEntry, int> rowOf, bool multi)
    {
        HeatmapView? heatmap = stage.PsRecipe is { } r
            ? new HeatmapView(r.Method, r.Models.Select(ModelNames.Short).ToList(), r.Groups.Select(g => g.Name).ToList(), r.Parameters,
                r.Parameters.Select(p => r.Models.Select((_, m) => r.Groups.Select((_, g) => r.Value(g, m, p)).ToArray()).ToArray()).ToArray())
            : null;
        PathView? path = stage.Path is { } lp ? new PathView(lp.Models.Select(ModelNames.Short).ToList(), lp.Steps) : null;
        IReadOnlyList<int>? pareto = null;
        if (multi)
        {
            var search = entries.Where(e => e.Stage == stage.Stage && e.Kind == EntryKinds.Search).ToList();
            int objectives = search.Select(e => e.Scores.Length).DefaultIfEmpty(0).Max();
            search = search.Where(e => e.Scores.Length == objectives).ToList();
            pareto = ParetoFront.Of(search).Select(i => rowOf[search[i]]).Order().ToList();
        }
        return new StageView(stage.Stage, stage.Best, stage.Mean, stage.BestSoFar, rowOf[stage.Winner], heatmap, path, pareto);
    }

    static CandidateRow Row(int row, JournalEntry e) => new(row, e.Stage, e.Kind, e.Generation, e.Index, e.Label, RecipeText.Of(e.Candidate),
        e.Scores, e.Fitness, e.BuildSeconds, e.ScoreSeconds, e.Cached, e.MinibatchSeed, e.Genome);

    static string NameOf(RunSnapshot s) => s.Config?.Name ?? s.Summary?.Name ?? s.Run.Id;

    static string? SpaceOf(RunSnapshot s) => s.Summary?.Space ?? s.Config?.Space switch
    {
        SearchSpaceKind.Ps => "ps",
        SearchSpaceKind.Dfs => "dfs",
        SearchSpaceKind.PsThenDfs => "ps+dfs",
        _ => null,
    };

    public static string StatusName(RunStatus status) => status.ToString().ToLowerInvariant();

    static string StatusDetail(RunSnapshot s) => s.Status switch
    {
        RunStatus.Running => "evomerge evolve is writing this run",
        RunStatus.Finished => "finished: summary.json written",
        _ => s.Entries.Count == 0 ? "no candidate scored, and no process is writing the run"
            : "stopped before summary.json was written (killed or failed); evomerge evolve --resume continues it",
    };

    /// <summary>From the run's start (config.json written) to its last write, or to now while it runs.</summary>
    static double WallSeconds(RunSnapshot s)
    {
        var config = new FileInfo(s.Run.Folder.ConfigFile);
        if (!config.Exists) return 0;
        var end = s.Status == RunStatus.Running ? DateTime.UtcNow : LastUpdate(s) ?? config.LastWriteTimeUtc;
        return Math.Max(0, (end - config.LastWriteTimeUtc).TotalSeconds);
    }

    static DateTime? LastUpdate(RunSnapshot s) =>
        new[] { s.Run.Folder.JournalFile, s.Run.Folder.SummaryFile, s.Run.Folder.ConfigFile }
            .Select(f => new FileInfo(f)).Where(f => f.Exists).Select(f => (DateTime?)f.LastWriteTimeUtc).Max();

    static List<Download> Downloads(RunSnapshot s, IReadOnlyList<StageView> stages)
    {
        var list = new List<Download>();
        foreach (var stage in stages.Select(st => st.Stage).Where(IsStageName))
        {
            if (FileFor(s.Run, $"{stage}-recipe") is not null)
                list.Add(new Download($"best {stage.ToUpperInvariant()} recipe (mergekit YAML)", $"/api/file/{stage}-recipe/{Escape(s.Run.Id)}"));
            if (FileFor(s.Run, $"{stage}-path") is not null)
                list.Add(new Download($"best {stage.ToUpperInvariant()} layer path (JSON)", $"/api/file/{stage}-path/{Escape(s.Run.Id)}"));
        }
        return list;
    }

    static string? ModelFolder(RunFolder folder) =>
        Directory.Exists(folder.BestModel) ? folder.BestModel : Directory.Exists(folder.StageModel("ps")) ? folder.StageModel("ps") : null;

    /// <summary>
    /// The run's file that a download name stands for: <c>&lt;stage&gt;-recipe</c> or <c>&lt;stage&gt;-path</c>, a regular
    /// file (no link) inside the run folder, or null. Stage names come from the journal, so they are checked too.
    /// </summary>
    public static string? FileFor(RunView run, string name)
    {
        var match = DownloadName().Match(name);
        if (!match.Success) return null;
        string stage = match.Groups[1].Value;
        string path = match.Groups[2].Value == "recipe" ? run.Folder.BestRecipe(stage) : run.Folder.BestPath(stage);
        var info = new FileInfo(path);
        bool inside = Path.GetFullPath(path).StartsWith(run.Folder.Root + Path.DirectorySeparatorChar, StringComparison.Ordinal);
        return inside && info.Exists && info.LinkTarget is null && info.Directory?.LinkTarget is null && info.Length is > 0 and < 16 << 20 ? path : null;
    }

    static bool IsStageName(string stage) => StageName().IsMatch(stage);

    static string Escape(string id) => string.Join('/', id.Split('/').Select(Uri.EscapeDataString));

    [GeneratedRegex("^([a-z][a-z0-9_]{0,31})-(recipe|path)$")]
    private static partial Regex DownloadName();

    [GeneratedRegex("^[a-z][a-z0-9_]{0,31}$")]
    private static partial Regex StageName();
}

public sealed record RunListItem(string Id, string Name, string? Space, string Status, double? BestFitness, int Evaluations,
    double WallSeconds, DateTime? LastUpdate, IReadOnlyList<string> Errors);

/// <param name="Candidates">Journal rows from the requested one on (all of them for a page load).</param>
/// <param name="CandidateCount">Rows in the journal: a client holding this many is up to date.</param>
/// <param name="Workers">A cluster run's workers as its driver last wrote them; null for a single-process run.</param>
public sealed record RunDetail(string Id, string Name, string? Space, string Status, string StatusDetail, ConfigView? Config,
    IReadOnlyList<string> Tasks, bool MultiObjective, IReadOnlyList<StageView> Stages, IReadOnlyList<CandidateRow> Candidates,
    int CandidateCount, EvolutionSummary? Summary, ClusterStatus? Workers, IReadOnlyList<Download> Downloads, string? ModelFolder,
    IReadOnlyList<string> Errors, int Version, int Generation);

/// <param name="Winner">Row of the stage's best candidate (full dev set).</param>
/// <param name="Pareto">Multi-objective runs: rows of the non-dominated search candidates.</param>
public sealed record StageView(string Stage, double[] Best, double[] Mean, double[] BestSoFar, int Winner, HeatmapView? Heatmap,
    PathView? Path, IReadOnlyList<int>? Pareto);

/// <param name="Values">[parameter][model][group].</param>
public sealed record HeatmapView(string Method, IReadOnlyList<string> Models, IReadOnlyList<string> Groups, IReadOnlyList<string> Parameters,
    double[][][] Values);

public sealed record PathView(IReadOnlyList<string> Models, IReadOnlyList<PathStep> Steps);

public sealed record CandidateRow(int Row, string Stage, string Kind, int Generation, int Index, string? Label, string Recipe,
    double[] Scores, double Fitness, double BuildSeconds, double ScoreSeconds, bool Cached, int? MinibatchSeed, double[]? Genome);

public sealed record Download(string Label, string Url);

public sealed record ConfigView(int Seed, string? BaseModel, IReadOnlyList<string> Models, string Optimizer, int? Population, int? Generations,
    string PsMethod, IReadOnlyList<string> PsParameters)
{
    public static ConfigView From(EvolutionConfig c) => new(c.Seed, c.BaseModel is { } b ? ModelNames.Short(b) : null,
        c.Models.Select(ModelNames.Short).ToList(), c.Optimizer.Name, c.Optimizer.Population, c.Optimizer.Generations, c.Ps.Method, c.Ps.Parameters);
}
