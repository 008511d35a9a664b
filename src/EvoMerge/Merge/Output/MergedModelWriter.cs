using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using EvoMerge.IO;
using EvoMerge.Lora.Folding;
using EvoMerge.Merge.Execution;
using EvoMerge.Merge.Recipes;

namespace EvoMerge.Merge.Output;

/// <summary>
/// Runs a planned recipe into a Hugging Face model folder: sharded safetensors (+ index), config.json adapted to
/// the output (layer count, vocabulary, dtype), the tokenizer files of the tokenizer source, the recipe as
/// <c>mergekit_config.yml</c> and a README.md model card, all or nothing through <see cref="OutputFolder"/>: the
/// output folder is checked before the merge starts, and an error or a crash never leaves a folder that looks like a
/// finished model.
/// </summary>
public static class MergedModelWriter
{
    public static void Write(PlannedRecipe planned, string outputFolder, MergeOptions options, long maxShardBytes = SafetensorsWriter.DefaultMaxShardBytes)
    {
        if (planned.Reference.Anatomy.IsDiffusion)
        {
            DiffusionModelWriter.Write(planned, outputFolder, options, maxShardBytes);
            return;
        }
        // Inputs: every model folder (a bare .safetensors file stands for its folder) and the recipe itself.
        var inputs = planned.Models.Values.Select(m => Directory.Exists(m.Path) ? m.Path : Path.GetDirectoryName(m.Path)!).ToList();
        inputs.AddRange(planned.Loras.Select(l => Directory.Exists(l.Path) ? l.Path : Path.GetDirectoryName(l.Path)!));
        if (File.Exists(planned.Recipe.File)) inputs.Add(planned.Recipe.File);
        OutputFolder.Write(outputFolder, partial =>
        {
            var specs = planned.Plan.Jobs.Select((j, i) => new TensorSpec(j.OutputName, planned.OutputDTypes[i], j.Shape));
            using (var writer = SafetensorsWriter.Create(partial, specs, maxShardBytes, new Dictionary<string, string> { ["merged_by"] = "evomerge" }))
            {
                IMergeTarget target = new WriterTarget(writer);
                if (planned.OutputLoras is { } loras) target = LoraFoldingTarget.Wrap(target, loras);
                MergeExecutor.Run(planned.Plan, planned.Parameters, target, options);
                writer.Complete();
            }
            WriteConfig(planned, partial);
            planned.TokenizerModel.CopyAuxiliaryFilesTo(partial);
            if (planned.UnionTokenizerJson is { } union) File.WriteAllText(Path.Combine(partial, "tokenizer.json"), union);
            WriteChatTemplate(planned, partial);
            File.WriteAllText(Path.Combine(partial, "mergekit_config.yml"), planned.Recipe.Text);
            File.WriteAllText(Path.Combine(partial, "README.md"), ModelCard(planned, options));
        }, inputs);
    }

    static void WriteConfig(PlannedRecipe planned, string folder)
    {
        if (planned.Reference.Config is not { } config) return;
        var json = (JsonObject)config.Json.DeepClone();
        // A LLaVA keeps its language model's shape in text_config (older configs repeat vocab_size at the top).
        var text = planned.Reference.Anatomy.IsLlava ? json["text_config"] as JsonObject ?? (JsonObject)(json["text_config"] = new JsonObject()) : json;
        text["num_hidden_layers"] = planned.OutputLayers;
        if (planned.OutputVocab is int vocab)
        {
            text["vocab_size"] = vocab;
            if (text != json && json.ContainsKey("vocab_size")) json["vocab_size"] = vocab;
        }
        var dtype = planned.OutputDTypes.GroupBy(d => d).MaxBy(g => g.Count())?.Key;
        if (dtype != null)
        {
            string name = dtype switch { DType.BF16 => "bfloat16", DType.F16 => "float16", _ => "float32" };
            json["torch_dtype"] = name;
            if (text != json && text.ContainsKey("torch_dtype")) text["torch_dtype"] = name;
        }
        File.WriteAllText(Path.Combine(folder, ModelFolder.ConfigFileName), json.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary><c>chat_template</c>: a built-in name or inline Jinja (<see cref="RecipeChatTemplates"/>); <c>auto</c> keeps the tokenizer's.</summary>
    static void WriteChatTemplate(PlannedRecipe planned, string folder)
    {
        if (RecipeChatTemplates.Resolve(planned.Recipe) is string template) File.WriteAllText(Path.Combine(folder, "chat_template.jinja"), template);
    }

    internal static string ModelCard(PlannedRecipe planned, MergeOptions options, string library = "transformers")
    {
        var card = new StringBuilder();
        card.AppendLine("---").AppendLine("library_name: " + library).AppendLine("tags:").AppendLine("- merge").AppendLine("- evomerge").AppendLine("---");
        card.AppendLine("# Merged model").AppendLine();
        card.AppendLine(CultureInfo.InvariantCulture, $"Made with EvoMerge using **{planned.Plan.Method.Name}** ({planned.Plan.Method.Reference}), " +
            $"seed {options.Seed} (DARE stream version {EvoMerge.Merge.Kernels.TensorRandom.StreamVersion}), compat {planned.Compat.ToString().ToLowerInvariant()}.").AppendLine();
        card.AppendLine("## Source models").AppendLine();
        foreach (var (name, _) in planned.Models)
            card.AppendLine(CultureInfo.InvariantCulture, $"- {name}{(name == planned.Recipe.BaseModel ? " (base)" : "")}");
        foreach (var (component, model) in planned.Components)
            card.AppendLine(CultureInfo.InvariantCulture, $"- {component}: taken whole from {model}");
        card.AppendLine().AppendLine("## Recipe").AppendLine().AppendLine("```yaml").AppendLine(planned.Recipe.Text.TrimEnd()).AppendLine("```");
        return card.ToString();
    }
}
