using EvoMerge.Candidates;
using EvoMerge.Evolution.Run;

namespace EvoMerge.Dashboard;

/// <summary>
/// Whether a journal entry is whole enough to draw: JSON that parses can still hold a PS recipe whose values do not
/// match its models and groups, or a path step naming a model that is not there (a hand-edited or corrupted file).
/// </summary>
static class CandidateShape
{
    /// <returns>Null when the entry can be shown, else what is wrong with it.</returns>
    public static string? Problem(JournalEntry e) => e.Candidate switch
    {
        MergeBuild { Recipe: var r } when r?.Models is null || r.Parameters is null || r.Groups is null || r.Values is null
            || r.Models.Any(m => m is null) || r.Parameters.Any(p => p is null) || r.Groups.Any(g => g?.Name is null) =>
            "PS recipe without models, parameters, groups or values",
        MergeBuild { Recipe: var r } when r.Values.Count != r.Groups.Count
            || r.Values.Any(g => g is null || g.Count != r.Models.Count || g.Any(m => m is null || m.Count != r.Parameters.Count)) =>
            $"PS recipe values are not {r.Groups.Count} groups × {r.Models.Count} models × {r.Parameters.Count} parameters",
        PathBuild { Path: var p } when p?.Models is null || p.Steps is null || p.Models.Any(m => m is null) => "DFS path without models or steps",
        PathBuild { Path: var p } when p.Steps.Any(s => s.Model < 0 || s.Model >= p.Models.Count || s.Layer < 0) =>
            $"DFS path step outside its {p.Models.Count} models",
        SourceBuild { Model: null } => "source candidate without a model",
        _ => null,
    };
}
