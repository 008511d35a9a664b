using EvoMerge.IO;
using EvoMerge.Merge.Execution;

namespace EvoMerge.Merge.Recipes;

/// <summary>
/// The embedding and head rows of a token-wise vocabulary union, per input: a model's own row where it has the
/// token; else, by mergekit's rule, the <c>tokenizer.tokens</c> source if one is given, the base model's row, the
/// one model that has it, or the mean of the models that have it. Forced tokens replace the merged row.
/// </summary>
sealed class UnionRows(TokenizerUnion union, Recipe recipe, IReadOnlyDictionary<string, ModelFolder> models, Func<string, int> sourceIndex)
{
    public int Count => union.Tokens.Count;

    readonly Dictionary<string, TokenOverride> overrides = Validated(union, recipe);

    static Dictionary<string, TokenOverride> Validated(TokenizerUnion union, Recipe recipe)
    {
        foreach (var o in recipe.TokenOverrides.Where(o => union.IdOf(o.TokenText) < 0))
            throw new EvoMergeException($"{o.Mark}: tokenizer.tokens: '{o.TokenText}' is in no model's vocabulary");
        return recipe.TokenOverrides.ToDictionary(o => o.TokenText);
    }

    long RowsOf(RecipeSource s, string tensor) => models[s.Model].Weights.TryGetInfo(tensor, out var info) ? info.Shape[0]
        : throw new EvoMergeException($"{s.Mark}: model '{s.Model}' has no tensor '{tensor}'");

    int Row(RecipeSource s, string tensor, int outId)
    {
        int row = union.RowOf[s.Model][outId];
        return row >= 0 && row < RowsOf(s, tensor) ? row : -1;
    }

    RowSource Source(RecipeSource s, string tensor, int row) => new(sourceIndex(s.Model), tensor, RowsOf(s, tensor), row);

    /// <summary>Output row → the rows it is made of, for input <paramref name="input"/> of a job over <paramref name="all"/>.</summary>
    public IReadOnlyList<RowSource[]> For(RecipeSource input, IReadOnlyList<RecipeSource> all, Func<RecipeSource, string> inputName)
    {
        var map = new RowSource[Count][];
        var baseSource = all.FirstOrDefault(s => s.Model == recipe.BaseModel);
        for (int id = 0; id < Count; id++)
        {
            if (Row(input, inputName(input), id) is int own and >= 0) { map[id] = [Source(input, inputName(input), own)]; continue; }
            if (overrides.TryGetValue(union.Tokens[id], out var o)) { map[id] = Override(o, all, inputName); continue; }
            if (baseSource != null && Row(baseSource, inputName(baseSource), id) is int b and >= 0) { map[id] = [Source(baseSource, inputName(baseSource), b)]; continue; }
            map[id] = all.Select(s => (s, row: Row(s, inputName(s), id))).Where(x => x.row >= 0)
                .Select(x => Source(x.s, inputName(x.s), x.row)).ToArray();
        }
        return map;
    }

    /// <summary>Rows that <c>force: true</c> tokens replace after the merge, or null.</summary>
    public IReadOnlyDictionary<int, RowSource[]>? Forced(IReadOnlyList<RecipeSource> all, Func<RecipeSource, string> inputName)
    {
        var forced = overrides.Values.Where(o => o.Force).ToDictionary(o => union.IdOf(o.TokenText), o => Override(o, all, inputName));
        return forced.Count > 0 ? forced : null;
    }

    RowSource[] Override(TokenOverride o, IReadOnlyList<RecipeSource> all, Func<RecipeSource, string> inputName)
    {
        if (o.Model == null) return [];
        var s = all.FirstOrDefault(x => x.Model == o.Model) ?? throw new EvoMergeException(
            $"{o.Mark}: tokenizer.tokens.{o.TokenText}: '{o.Model}' is not a model of the merge{NearestName.Suggest(o.Model, all.Select(x => x.Model))}");
        string tensor = inputName(s);
        int row;
        if (o.TokenId is int tokenId) row = tokenId < RowsOf(s, tensor) ? tokenId : -1;
        else
        {
            string token = o.Token ?? o.TokenText;
            int id = union.IdOf(token);
            row = id < 0 ? -1 : Row(s, tensor, id);
        }
        if (row < 0)
            throw new EvoMergeException($"{o.Mark}: tokenizer.tokens.{o.TokenText}: model '{o.Model}' has no {(o.TokenId is int t ? $"token id {t}" : $"token '{o.Token ?? o.TokenText}'")}");
        return [Source(s, tensor, row)];
    }
}
