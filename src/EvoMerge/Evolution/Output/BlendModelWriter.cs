using System.Text.Json;
using System.Text.Json.Nodes;
using EvoMerge.Evolution.Run;
using EvoMerge.IO;
using EvoMerge.Lora.Folding;
using EvoMerge.Merge.Execution;
using EvoMerge.Merge.Output;
using EvoMerge.Merge.Recipes;

namespace EvoMerge.Evolution.Output;

/// <summary>
/// Writes a blend (an M2N2 archive member) as a Hugging Face folder: the tensors of <see cref="BlendExecutor"/> in
/// <paramref name="dtype"/>, config and tokenizer of the first source, and the recipe as <c>blend.json</c>. Written
/// under a temporary name and renamed, as every model folder.
/// </summary>
public static class BlendModelWriter
{
    public static void Write(BlendRecipe recipe, string outputFolder, string dtype)
    {
        string final = Path.GetFullPath(outputFolder), partial = final + ".partial";
        var outputType = dtype switch { "float32" => DType.F32, "float16" => DType.F16, _ => DType.BF16 };
        if (Directory.Exists(partial)) Directory.Delete(partial, recursive: true);
        Directory.CreateDirectory(partial);
        var opened = new List<FoldedModel>();
        try
        {
            foreach (var m in recipe.Models) opened.Add(FoldedModel.Open(m, m));   // model+lora sources: the LoRA folded in
            var folders = opened.Select(f => f.Folder).ToList();
            var plan = BlendExecutor.Plan(opened.Select(f => f.Weights).ToList(), folders[0].Anatomy);
            using (var writer = SafetensorsWriter.Create(partial, plan.Jobs.Select(j => new TensorSpec(j.OutputName, outputType, j.Shape)),
                       metadata: new Dictionary<string, string> { ["merged_by"] = "evomerge m2n2" }))
            {
                BlendExecutor.Run(plan, recipe, new WriterTarget(writer));
                writer.Complete();
            }
            if (folders[0].Config is { } config)
            {
                var json = (JsonObject)config.Json.DeepClone();
                json["torch_dtype"] = dtype;
                File.WriteAllText(Path.Combine(partial, ModelFolder.ConfigFileName), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            }
            folders[0].CopyAuxiliaryFilesTo(partial);
            File.WriteAllText(Path.Combine(partial, "blend.json"), JsonSerializer.Serialize(recipe, RunJson.Indented));
            if (Directory.Exists(final)) Directory.Delete(final, recursive: true);
            Directory.Move(partial, final);
        }
        catch
        {
            if (Directory.Exists(partial)) Directory.Delete(partial, recursive: true);
            throw;
        }
        finally
        {
            foreach (var f in opened) f.Dispose();
        }
    }
}
