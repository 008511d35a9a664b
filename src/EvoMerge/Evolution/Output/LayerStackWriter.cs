using EvoMerge.Anatomy;
using System.Text.Json;
using System.Text.Json.Nodes;
using EvoMerge.Evolution.Run;
using EvoMerge.Candidates;
using EvoMerge.IO;

namespace EvoMerge.Evolution.Output;

/// <summary>
/// Writes a DFS layer path as a plain Hugging Face model that any Llama runtime loads: step i becomes decoder layer
/// i (a copy of its source layer), and embeddings, final norm and head come from model A. The scales need no
/// special runtime: a step's scale multiplies the previous block's output before it joins the residual stream,
/// which is linear in that block's last projection, so the scale of step i+1 is folded into step i's
/// <c>mlp.down_proj</c>, and the scale of step 0 into the input embeddings (untying a tied head, which keeps the
/// unscaled matrix). Where every scale is 1, the weights are byte copies. <c>layer_path.json</c> records the path.
/// </summary>
public static class LayerStackWriter
{
    public static void Write(LayerPath path, string outputFolder)
    {
        var folders = new List<ModelFolder>();
        try
        {
            folders.AddRange(path.Models.Select(ModelFolder.Open));
            var a = folders[0];
            var config = a.Config ?? throw new EvoMergeException($"{a.Path}: config.json is needed to write a layer-stacked model");
            bool untie = config.TieWordEmbeddings && path.Steps[0].Scale != 1;
            var copies = Plan(path, folders, untie);
            OutputFolder.Write(outputFolder, partial =>
            {
                using (var writer = SafetensorsWriter.Create(partial, copies.Select(c => new TensorSpec(c.Output, c.Source.DType, c.Source.Shape)),
                           metadata: new Dictionary<string, string> { ["merged_by"] = "evomerge dfs" }))
                {
                    foreach (var c in copies) Copy(writer, folders[c.Model].Weights, c);
                    writer.Complete();
                }
                var json = (JsonObject)config.Json.DeepClone();
                json["num_hidden_layers"] = path.Steps.Count;
                if (untie) json["tie_word_embeddings"] = false;
                File.WriteAllText(Path.Combine(partial, ModelFolder.ConfigFileName), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
                a.CopyAuxiliaryFilesTo(partial);
                File.WriteAllText(Path.Combine(partial, "layer_path.json"), JsonSerializer.Serialize(path, RunJson.Indented));
            }, folders.Select(f => Directory.Exists(f.Path) ? f.Path : Path.GetDirectoryName(f.Path)!));
        }
        finally
        {
            foreach (var f in folders) f.Dispose();
        }
    }

    /// <summary>One output tensor: where it comes from and the factor applied (1 = byte copy).</summary>
    sealed record TensorCopy(string Output, int Model, TensorInfo Source, float Scale);

    static List<TensorCopy> Plan(LayerPath path, List<ModelFolder> folders, bool untie)
    {
        var a = folders[0];
        var copies = new List<TensorCopy>();
        foreach (var t in a.Weights.Tensors)
        {
            var role = a.Anatomy.Place(t.Name).Role;
            if (role == TensorRole.Layer) continue;
            copies.Add(new TensorCopy(t.Name, 0, t, role == TensorRole.Embedding ? (float)path.Steps[0].Scale : 1));
            if (untie && role == TensorRole.Embedding) copies.Add(new TensorCopy("lm_head.weight", 0, t, 1));
        }
        for (int i = 0; i < path.Steps.Count; i++)
        {
            var (model, layer, _) = path.Steps[i];
            float next = i + 1 < path.Steps.Count ? (float)path.Steps[i + 1].Scale : 1;
            var source = folders[model];
            foreach (var t in source.TensorsOfLayer(layer))
                copies.Add(new TensorCopy(source.Anatomy.WithLayer(t.Name, i), model, t,
                    t.Name.Contains("mlp.down_proj", StringComparison.Ordinal) ? next : 1));
        }
        return copies;
    }

    static void Copy(SafetensorsWriter writer, SafetensorsModel weights, TensorCopy c)
    {
        var bytes = weights.GetBytes(c.Source.Name);
        if (c.Scale == 1) { writer.WriteBytes(c.Output, bytes); return; }
        var values = new float[c.Source.ElementCount];
        FloatConversion.ToFloat32(bytes, c.Source.DType, values);
        System.Numerics.Tensors.TensorPrimitives.Multiply(values, c.Scale, values);
        writer.WriteFloat32(c.Output, values);
    }
}
