using EvoMerge.Anatomy;
using System.Text.Json;
using System.Text.Json.Nodes;
using EvoMerge.Evolution.Run;
using EvoMerge.Candidates;
using EvoMerge.IO;
using EvoMerge.Lora.Folding;

namespace EvoMerge.Evolution.Output;

/// <summary>
/// Writes a DFS layer path as a plain Hugging Face model that any Llama runtime loads: step i becomes decoder layer
/// i (a copy of its source layer), and embeddings, final norm and head come from model A. The scales need no
/// special runtime: a step's scale multiplies the previous block's output before it joins the residual stream,
/// which is linear in that block's last projection, so the scale of step i+1 is folded into step i's
/// <c>mlp.down_proj</c>, and the scale of step 0 into the input embeddings (untying a tied head, which keeps the
/// unscaled matrix). Where every scale is 1, the weights are byte copies. <c>layer_path.json</c> records the path.
/// When model A is a LLaVA the output is a LLaVA folder in A's layout (transformers 4.x or 5.x names): A's vision
/// tower and projector as they are, the path's layers (from the VLM's language model or from text LLMs) as its
/// language model's, <c>text_config.num_hidden_layers</c> the path's length; step 0's scale is also folded into
/// the projector's last linear, since image features enter the language model beside the token embeddings.
/// </summary>
public static class LayerStackWriter
{
    public static void Write(LayerPath path, string outputFolder)
    {
        var opened = new List<FoldedModel>();
        try
        {
            foreach (var m in path.Models) opened.Add(FoldedModel.Open(m));   // model+lora sources: the LoRA folded in
            var folders = opened.Select(f => f.Folder).ToList();
            var a = folders[0];
            var config = a.Config ?? throw new EvoMergeException($"{a.Path}: config.json is needed to write a layer-stacked model");
            var json = (JsonObject)config.Json.DeepClone();
            // A LLaVA keeps its language model's config in text_config (transformers' defaults where it is silent).
            var text = a.Anatomy.IsLlava ? json["text_config"] as JsonObject ?? (JsonObject)(json["text_config"] = new JsonObject()) : json;
            bool tied = a.Anatomy.IsLlava ? ModelConfig.FromJson(text, a.Path).TieWordEmbeddings : config.TieWordEmbeddings;
            bool untie = tied && path.Steps[0].Scale != 1;
            var copies = Plan(path, folders, untie);
            OutputFolder.Write(outputFolder, partial =>
            {
                using (var writer = SafetensorsWriter.Create(partial, copies.Select(c => new TensorSpec(c.Output, c.Source.DType, c.Source.Shape)),
                           metadata: new Dictionary<string, string> { ["merged_by"] = "evomerge dfs" }))
                {
                    foreach (var c in copies) Copy(writer, opened[c.Model], c);
                    writer.Complete();
                }
                text["num_hidden_layers"] = path.Steps.Count;
                if (untie)
                {
                    text["tie_word_embeddings"] = false;
                    if (text != json && json.ContainsKey("tie_word_embeddings")) json["tie_word_embeddings"] = false;
                }
                File.WriteAllText(Path.Combine(partial, ModelFolder.ConfigFileName), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
                a.CopyAuxiliaryFilesTo(partial);
                File.WriteAllText(Path.Combine(partial, "layer_path.json"), JsonSerializer.Serialize(path, RunJson.Indented));
            }, folders.Select(f => Directory.Exists(f.Path) ? f.Path : Path.GetDirectoryName(f.Path)!));
        }
        finally
        {
            foreach (var f in opened) f.Dispose();
        }
    }

    /// <summary>One output tensor: where it comes from and the factor applied (1 = byte copy).</summary>
    sealed record TensorCopy(string Output, int Model, TensorInfo Source, float Scale);

    static List<TensorCopy> Plan(LayerPath path, List<ModelFolder> folders, bool untie)
    {
        var a = folders[0];
        var anatomy = a.Anatomy;
        bool transformers5 = anatomy.IsLlava && ModelAnatomy.UsesTransformers5Names(a.Weights.Tensors.Select(t => t.Name));
        float first = (float)path.Steps[0].Scale;
        var copies = new List<TensorCopy>();
        foreach (var t in a.Weights.Tensors)
        {
            var place = anatomy.Place(t.Name);
            if (place.Role == TensorRole.Layer && place.Module == anatomy.LayeredModule) continue;   // a VLM's vision layers stay
            bool input = place is { Module: ModelModule.TextDecoder, Role: TensorRole.Embedding } || anatomy.IsProjectorOutput(t.Name);
            copies.Add(new TensorCopy(t.Name, 0, t, input ? first : 1));
            if (untie && place is { Module: ModelModule.TextDecoder, Role: TensorRole.Embedding })
                copies.Add(new TensorCopy(anatomy.IsLlava ? ModelAnatomy.LlavaName("lm_head.weight", transformers5) : "lm_head.weight", 0, t, 1));
        }
        for (int i = 0; i < path.Steps.Count; i++)
        {
            var (model, layer, _) = path.Steps[i];
            float next = i + 1 < path.Steps.Count ? (float)path.Steps[i + 1].Scale : 1;
            var source = folders[model];
            foreach (var t in source.TensorsOfLayer(layer))
            {
                // By decoder name, so a VLM's language-model layer and a text LLM's layer meet in either layout.
                string renumbered = source.Anatomy.Decoder.WithLayer(source.Anatomy.DecoderName(t.Name)!, i);
                string output = anatomy.IsLlava ? ModelAnatomy.LlavaName(renumbered, transformers5) : renumbered;
                copies.Add(new TensorCopy(output, model, t, t.Name.Contains("mlp.down_proj", StringComparison.Ordinal) ? next : 1));
            }
        }
        return copies;
    }

    static void Copy(SafetensorsWriter writer, FoldedModel model, TensorCopy c)
    {
        bool folded = model.Patches?.Changes(c.Source.Name) == true;
        if (c.Scale == 1 && !folded) { writer.WriteBytes(c.Output, model.Folder.Weights.GetBytes(c.Source.Name)); return; }
        var values = new float[c.Source.ElementCount];
        model.Weights.ReadFloat32(c.Source.Name, values);
        System.Numerics.Tensors.TensorPrimitives.Multiply(values, c.Scale, values);
        writer.WriteFloat32(c.Output, values);
    }
}
