using EvoMerge.IO;
using EvoMerge.Lora.Folding;
using EvoMerge.Merge.Recipes;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace EvoMerge.Merge.MultiStage;

/// <summary>One document of a multi-stage recipe: a named merge whose models may be earlier stages' names.</summary>
public sealed record RecipeStage(string Name, RecipeMark NameMark, Recipe Recipe, string Text, IReadOnlyList<(string Stage, RecipeMark Mark)> Uses);

/// <summary>
/// A multi-stage recipe (mergekit-multi's format): several mergekit recipes in one YAML file, separated by <c>---</c>,
/// each with a <c>name</c>; a stage may use another's name wherever a model goes. Stages are returned in dependency
/// order. Cycles, unknown names, duplicate or missing names are refused with the file, line and names involved. The
/// output is the one stage no other stage uses.
/// </summary>
public sealed class MultiStageRecipe
{
    public required string File { get; init; }

    /// <summary>Stages in an order where every stage comes after those it uses.</summary>
    public required IReadOnlyList<RecipeStage> Stages { get; init; }

    /// <summary>The stage that is the final model (the last of <see cref="Stages"/>).</summary>
    public RecipeStage Output => Stages[^1];

    /// <summary>
    /// True when <paramref name="path"/> holds more than one non-empty YAML document. Anything that is not a plain
    /// file of sensible size (a FIFO, a device, reported with length 0) or is not valid YAML is left to the
    /// single-recipe reader, which refuses it with its own message.
    /// </summary>
    public static bool IsMultiStage(string path)
    {
        try { return Documents(YamlText.ReadFile(path, "recipe file"), path).Count > 1; }
        catch (EvoMergeException) { return false; }
    }

    public static MultiStageRecipe Load(string path) => Parse(YamlText.ReadFile(path, "recipe file"), path);

    public static MultiStageRecipe Parse(string text, string file)
    {
        var stages = new List<RecipeStage>();
        foreach (var (docText, start) in Documents(text, file))
        {
            // Padding the document to its place in the file keeps every line and column of the recipe parser's messages true.
            string padded = new string('\n', (int)start.Line - 1) + new string(' ', (int)start.Column - 1) + docText;
            var recipe = RecipeParser.Parse(padded, file);
            var (name, nameMark) = StageName(padded, file, start);
            stages.Add(new RecipeStage(name, nameMark, recipe, docText.Trim() + "\n", []));
        }
        var byName = new Dictionary<string, RecipeStage>();
        foreach (var s in stages)
            if (!byName.TryAdd(s.Name, s))
                throw new EvoMergeException($"{s.NameMark}: stage name '{s.Name}' is also used at line {byName[s.Name].NameMark.Line}");
        stages = stages.Select(s => s with
        {
            // A stage may be used with a LoRA folded in (stage+lora): the stage is the reference's model half.
            Uses = s.Recipe.ReferencedModels().Select(m => (Model: LoraReference.Split(m.Model).Model, m.Mark)).Where(m => byName.ContainsKey(m.Model))
                .Concat(s.Recipe.TokenizerSource is { } t && byName.ContainsKey(t) ? [(t, s.Recipe.TokenizerMark)] : [])
                .DistinctBy(m => m.Model).ToList(),
        }).ToList();
        foreach (var s in stages)
            if (s.Uses.FirstOrDefault(u => u.Stage == s.Name) is { Stage: not null } self)
                throw new EvoMergeException($"{self.Mark}: stage '{s.Name}' uses itself");
        CheckNames(stages);
        var ordered = Order(stages);
        var sinks = stages.Where(s => stages.All(o => o.Uses.All(u => u.Stage != s.Name))).ToList();
        if (sinks.Count > 1)
            throw new EvoMergeException($"{file}: stages {string.Join(", ", sinks.Select(s => $"'{s.Name}' (line {s.NameMark.Line})"))} are used by no other stage; " +
                "a multi-stage recipe has one output: use each of them in a later stage, or put them in separate files");
        // The output goes last; the others keep their dependency order.
        ordered.Remove(sinks[0]);
        ordered.Add(sinks[0]);
        return new MultiStageRecipe { File = file, Stages = ordered };
    }

    /// <summary>Every model reference that is not a stage must be a model now, so that a typo fails before stage 1 runs.</summary>
    static void CheckNames(List<RecipeStage> stages)
    {
        var names = stages.Select(s => s.Name).ToHashSet();
        foreach (var stage in stages)
        {
            if (stage.Name != Path.GetFileName(stage.Name) || stage.Name is "." or ".." || stage.Name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
                throw new EvoMergeException($"{stage.NameMark}: stage name '{stage.Name}' must be usable as a folder name (no '/', not '.' or '..')");
            foreach (var (reference, mark) in stage.Recipe.ReferencedModels())
            {
                string model = LoraReference.Split(reference).Model;
                if (names.Contains(model)) continue;
                try { ModelReference.Resolve(model); }
                catch (EvoMergeException e)
                {
                    throw new EvoMergeException($"{mark}: '{model}' is neither a stage of this recipe ({string.Join(", ", names)}) nor a model: {e.Message}" +
                        NearestName.Suggest(model, names), e);
                }
            }
        }
    }

    /// <summary>
    /// The non-empty documents of a YAML stream, each with the position of its first character. The stream is first
    /// bounded and checked by the one YAML reader; this pass only finds where each document's text starts and ends.
    /// </summary>
    static List<(string Text, Mark Start)> Documents(string text, string file)
    {
        YamlText.ParseDocuments(text, file);
        var result = new List<(string, Mark)>();
        try
        {
            var parser = new Parser(new StringReader(text));
            Mark? start = null;
            bool empty = true;
            while (parser.MoveNext())
            {
                switch (parser.Current)
                {
                    case DocumentStart ds:
                        start = ds.Start;
                        empty = true;
                        break;
                    case Scalar { Value: { Length: > 0 } }:
                    case MappingStart:
                    case SequenceStart:
                        empty = false;
                        break;
                    case DocumentEnd de when start is { } s:
                        if (!empty) result.Add((text[(int)s.Index..(int)de.End.Index], s));
                        start = null;
                        break;
                }
            }
        }
        catch (YamlException e)
        {
            throw new EvoMergeException($"{file}:{e.Start.Line}:{e.Start.Column}: invalid YAML: {e.InnerException?.Message ?? e.Message}");
        }
        return result;
    }

    static (string Name, RecipeMark Mark) StageName(string padded, string file, Mark start)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(padded));
        var root = (YamlMappingNode)stream.Documents[0].RootNode; // RecipeParser has checked that it is a mapping
        var node = root.Children.FirstOrDefault(kv => kv.Key is YamlScalarNode { Value: "name" }).Value;
        if (node is YamlScalarNode { Value: { Length: > 0 } name })
            return (name, new RecipeMark(file, (int)node.Start.Line, (int)node.Start.Column));
        throw new EvoMergeException(node == null
            ? $"{file}:{start.Line}:{start.Column}: every document of a multi-stage recipe needs a 'name' (later stages use it as a model)"
            : $"{file}:{node.Start.Line}:{node.Start.Column}: name: expected a text value");
    }

    /// <summary>Depth-first topological order; a cycle is reported as the chain of names with the line of each use.</summary>
    static List<RecipeStage> Order(List<RecipeStage> stages)
    {
        var byName = stages.ToDictionary(s => s.Name);
        var state = new Dictionary<string, int>(); // 1 = on the current path, 2 = done
        var ordered = new List<RecipeStage>();
        var path = new List<(RecipeStage Stage, RecipeMark UseMark)>();
        void Visit(RecipeStage s, RecipeMark useMark)
        {
            if (state.GetValueOrDefault(s.Name) == 2) return;
            if (state.GetValueOrDefault(s.Name) == 1)
            {
                int from = path.FindIndex(p => p.Stage.Name == s.Name);
                var cycle = path.Skip(from).Select(p => p.Stage.Name).Append(s.Name);
                var uses = path.Skip(from + 1).Select(p => p.UseMark).Append(useMark);
                throw new EvoMergeException($"{useMark}: stages form a cycle: {string.Join(" → ", cycle)} " +
                    $"(uses at lines {string.Join(", ", uses.Select(m => m.Line))})");
            }
            state[s.Name] = 1;
            path.Add((s, useMark));
            foreach (var (used, mark) in s.Uses) Visit(byName[used], mark);
            path.RemoveAt(path.Count - 1);
            state[s.Name] = 2;
            ordered.Add(s);
        }
        foreach (var s in stages) Visit(s, s.NameMark);
        return ordered;
    }
}
