using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EvoMerge.IO;
using EvoMerge.Lora.Folding;
using EvoMerge.Merge.Execution;
using EvoMerge.Merge.Methods;
using EvoMerge.Merge.Output;
using EvoMerge.Merge.Recipes;

namespace EvoMerge.Merge.MultiStage;

/// <summary>What happened to one stage: written, reused from the intermediate folder, or (for check) current, planned or waiting.</summary>
public sealed record StageOutcome(RecipeStage Stage, string Folder, StageStatus Status, string? Detail = null);

public enum StageStatus { Written, Reused, Current, Checked, WaitsForInputs }

/// <summary>
/// Runs a <see cref="MultiStageRecipe"/>: each stage in dependency order through the same planner and writer as a
/// single recipe, stage names resolving to their folders in the intermediate folder, the last stage into the
/// output folder. An intermediate is reused when its folder is complete (folders appear whole, by rename) and its
/// stamp matches the stage: the stage's text, the seed, the compat mode and its inputs (other stages' stamps, model
/// paths), so an edited stage is rebuilt along with every stage after it, and nothing else is.
/// </summary>
public static class MultiStageRunner
{
    public const string StampFileName = "evomerge_stage.json";

    /// <param name="compat">The --compat override, else each stage's own <c>compat</c>.</param>
    /// <param name="strict">Warnings are errors (as <c>--strict</c>), in every stage.</param>
    /// <param name="options">Seed, threads and cancellation for every stage (each stage's compat comes from its plan).</param>
    /// <param name="progressFor">A progress reporter for a stage about to be written.</param>
    /// <param name="onStage">Called as each stage is reused or written.</param>
    public static IReadOnlyList<StageOutcome> Run(MultiStageRecipe recipe, string outputFolder, string intermediateFolder, MergeCompat? compat, bool strict,
        MergeOptions options, Func<RecipeStage, PlannedRecipe, IProgress<MergeProgress>?>? progressFor = null, Action<StageOutcome>? onStage = null)
    {
        // Refuse now what the output stage would refuse after every other stage has run.
        string output = Path.TrimEndingDirectorySeparator(Path.GetFullPath(outputFolder));
        string intermediates = Path.TrimEndingDirectorySeparator(Path.GetFullPath(intermediateFolder));
        if (Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any())
            throw new EvoMergeException($"{outputFolder}: output folder exists and is not empty");
        if (intermediates == output || intermediates.StartsWith(output + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new EvoMergeException($"{intermediateFolder}: the intermediate folder must not be (inside) the output folder {outputFolder}");
        ulong seed = options.Seed;
        var outcomes = new List<StageOutcome>();
        var stamps = new Dictionary<string, string>();
        Directory.CreateDirectory(intermediateFolder);
        foreach (var stage in recipe.Stages)
        {
            string stamp = Stamp(stage, stamps, seed, compat);
            stamps[stage.Name] = stamp;
            bool isOutput = stage == recipe.Output;
            string folder = isOutput ? outputFolder : IntermediateOf(intermediateFolder, stage);
            if (!isOutput && ReadStamp(folder) == stamp)
            {
                outcomes.Add(new StageOutcome(stage, folder, StageStatus.Reused));
                onStage?.Invoke(outcomes[^1]);
                continue;
            }
            using var planned = RecipePlanner.Plan(stage.Recipe, compat, strict, Resolver(recipe, intermediateFolder));
            var stageOptions = options with { Compat = planned.Compat, Progress = progressFor?.Invoke(stage, planned) ?? options.Progress };
            if (isOutput) MergedModelWriter.Write(planned, folder, stageOptions);
            else WriteIntermediate(planned, folder, stamp, stageOptions);
            outcomes.Add(new StageOutcome(stage, folder, StageStatus.Written));
            onStage?.Invoke(outcomes[^1]);
        }
        return outcomes;
    }

    /// <summary>
    /// What <c>check</c> can say without running anything: every stage whose inputs exist now (models, or
    /// intermediates already built and current) is planned against their headers; the others wait for their inputs.
    /// Returns the planned stages (the caller disposes them) beside the outcomes. Without an intermediate folder, no
    /// intermediate counts as built.
    /// </summary>
    public static IReadOnlyList<(StageOutcome Outcome, PlannedRecipe? Planned)> Check(MultiStageRecipe recipe, string? intermediateFolder, MergeCompat? compat, bool strict, ulong seed)
    {
        var result = new List<(StageOutcome, PlannedRecipe?)>();
        var stamps = new Dictionary<string, string>();
        var current = new HashSet<string>();
        try
        {
            foreach (var stage in recipe.Stages)
            {
                string stamp = stamps[stage.Name] = Stamp(stage, stamps, seed, compat);
                string folder = stage == recipe.Output || intermediateFolder == null ? "" : IntermediateOf(intermediateFolder, stage);
                var missing = stage.Uses.Where(u => !current.Contains(u.Stage)).Select(u => u.Stage).ToList();
                if (missing.Count > 0)
                {
                    result.Add((new StageOutcome(stage, folder, StageStatus.WaitsForInputs, $"planned once {string.Join(", ", missing)} is built"), null));
                    continue;
                }
                if (folder.Length > 0 && ReadStamp(folder) == stamp) current.Add(stage.Name);
                var planned = RecipePlanner.Plan(stage.Recipe, compat, strict, intermediateFolder == null ? null : Resolver(recipe, intermediateFolder));
                result.Add((new StageOutcome(stage, folder, current.Contains(stage.Name) ? StageStatus.Current : StageStatus.Checked), planned));
            }
            return result;
        }
        catch
        {
            foreach (var (_, p) in result) p?.Dispose();
            throw;
        }
    }

    static Func<string, string> Resolver(MultiStageRecipe recipe, string intermediateFolder)
    {
        var byName = recipe.Stages.ToDictionary(s => s.Name);
        return reference => byName.TryGetValue(reference, out var stage) ? IntermediateOf(intermediateFolder, stage) : reference;
    }

    static string IntermediateOf(string intermediateFolder, RecipeStage stage) => Path.GetFullPath(Path.Combine(intermediateFolder, stage.Name));

    /// <summary>A hash of everything that determines a stage's output.</summary>
    static string Stamp(RecipeStage stage, Dictionary<string, string> stamps, ulong seed, MergeCompat? compat)
    {
        var text = new StringBuilder().Append(stage.Text).Append('\0').Append(seed).Append('\0').Append(compat?.ToString() ?? "recipe");
        var names = stage.Recipe.ReferencedModels().Select(m => m.Model);
        if (stage.Recipe.TokenizerSource is { } t) names = names.Append(t);
        foreach (var reference in names.Distinct())
        {
            // stage+lora: the stage's stamp and the LoRA's path both decide the output.
            var (model, lora) = LoraReference.Split(reference);
            text.Append('\0').Append(reference).Append('=').Append(stamps.TryGetValue(model, out var s) ? s : SafeResolve(model));
            if (lora != null) text.Append('+').Append(SafeResolve(lora));
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    static string SafeResolve(string model)
    {
        try { return ModelReference.Resolve(model); }
        catch (EvoMergeException) { return model; } // base / union and other tokenizer keywords
    }

    static string? ReadStamp(string folder)
    {
        string path = Path.Combine(folder, StampFileName);
        if (!File.Exists(path) || new FileInfo(path).Length > 4096) return null;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            return doc.RootElement.TryGetProperty("stamp", out var s) ? s.GetString() : null;
        }
        catch (JsonException) { return null; }
    }

    /// <summary>
    /// Writes an intermediate under a temporary name, stamps it, then renames it. A stale intermediate (stamped, but
    /// for another version of the stage) is replaced; a folder without a stamp is not ours and is never touched.
    /// </summary>
    static void WriteIntermediate(PlannedRecipe planned, string folder, string stamp, MergeOptions options)
    {
        if (Directory.Exists(folder))
        {
            if (!File.Exists(Path.Combine(folder, StampFileName)))
                throw new EvoMergeException($"{folder}: the intermediate folder of this stage exists but was not written by a multi-stage run; move it away or choose another --intermediate-dir");
            Directory.Delete(folder, recursive: true);
        }
        string building = folder + ".building";
        if (Directory.Exists(building)) Directory.Delete(building, recursive: true);
        MergedModelWriter.Write(planned, building, options);
        File.WriteAllText(Path.Combine(building, StampFileName), JsonSerializer.Serialize(new { stamp, stage = Path.GetFileName(folder) }));
        Directory.Move(building, folder);
    }
}
