using System.Globalization;
using EvoMerge.Candidates;
using EvoMerge.Evolution.Spaces;

namespace EvoMerge.Demo;

/// <summary>An evolved recipe in one line, for the table and the closing note (e.g. <c>layer 0: A w0.31 d0.52, B w1.40 d0.88</c>).</summary>
public static class DemoRecipeText
{
    public static string Ps(PsSpace space, double[] genome, IReadOnlyList<string> modelNames)
    {
        var recipe = ((MergeBuild)space.Decode(genome)).Recipe;
        return string.Join("; ", recipe.Groups.Select((g, gi) => $"{g.Name}: " + string.Join(", ", modelNames.Select((m, mi) =>
            $"{m} " + string.Join(" ", recipe.Parameters.Select((p, pi) => $"{p[0]}{F(recipe.Values[gi][mi][pi])}"))))));
    }

    public static string Dfs(LayerPath path, IReadOnlyList<string> modelNames) =>
        string.Join(" → ", path.Steps.Select(s => $"{modelNames[s.Model]}{s.Layer}×{F(s.Scale)}"));

    static string F(double v) => v.ToString("0.00", CultureInfo.InvariantCulture);
}
