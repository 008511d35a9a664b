using System.Globalization;
using System.Text;
using EvoMerge.Candidates;
using EvoMerge.Merge.Recipes;
using EvoMerge.Reporting;

namespace EvoMerge.Dashboard;

/// <summary>A candidate decoded into one line for the candidates table (searchable with the filter box).</summary>
static class RecipeText
{
    public static string Of(ModelBuild candidate) => candidate switch
    {
        MergeBuild ps => Ps(ps.Recipe),
        PathBuild dfs => Dfs(dfs.Path),
        SourceBuild source => ModelNames.Short(source.Model),
        _ => "",
    };

    /// <summary>"a: weight 0.52/0.41, density 0.90/0.80; b: ...": per model, each parameter's value per group.</summary>
    static string Ps(GroupedRecipe r)
    {
        var text = new StringBuilder();
        for (int m = 0; m < r.Models.Count; m++)
        {
            if (m > 0) text.Append("; ");
            text.Append(ModelNames.Short(r.Models[m])).Append(": ");
            text.AppendJoin(", ", r.Parameters.Select(p => p + " " + string.Join('/', Enumerable.Range(0, r.Groups.Count).Select(g => N(r.Value(g, m, p))))));
        }
        return text.ToString();
    }

    /// <summary>"A0 A1 B1×0.80 A3": model letter and layer per step, with the input scale where it is not 1.</summary>
    static string Dfs(LayerPath path) => string.Join(' ', path.Steps.Select(s =>
        $"{(char)('A' + Math.Clamp(s.Model, 0, 25))}{s.Layer}{(s.Scale != 1 ? "×" + N(s.Scale) : "")}"));

    static string N(double v) => v.ToString("0.00", CultureInfo.InvariantCulture);
}
