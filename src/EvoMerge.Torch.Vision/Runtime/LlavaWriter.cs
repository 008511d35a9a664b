using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using EvoMerge.IO;
using EvoMerge.Torch.Vision.Model;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Vision.Runtime;

/// <summary>
/// Saves a LLaVA held in memory (trained, e.g. by the demo) as a Hugging Face <c>llava</c> folder in transformers
/// 4.x layout: <c>config.json</c> (LlavaForConditionalGeneration with <c>text_config</c> and <c>vision_config</c>),
/// <c>model.safetensors</c> under the module's names, <c>preprocessor_config.json</c>, and the given tokenizer files.
/// </summary>
public static class LlavaWriter
{
    public static void Save(LlavaForConditionalGeneration model, string folder, string preprocessorJson, IEnumerable<string> extraFiles)
    {
        var parameters = model.named_parameters().ToArray();
        var extras = extraFiles.ToList();
        OutputFolder.Write(folder, partial =>
        {
            File.WriteAllText(Path.Combine(partial, ModelFolder.ConfigFileName), ConfigJson(model.Config));
            File.WriteAllText(Path.Combine(partial, "preprocessor_config.json"), preprocessorJson);
            foreach (var file in extras) File.Copy(file, Path.Combine(partial, Path.GetFileName(file)));
            using var writer = SafetensorsWriter.Create(partial, parameters.Select(p => new TensorSpec(p.name, DType.F32, p.parameter.shape)));
            foreach (var (name, p) in parameters)
            {
                using var scope = NewDisposeScope();
                var values = p.detach().to_type(ScalarType.Float32).cpu().contiguous();
                writer.WriteFloat32(name, MemoryMarshal.Cast<byte, float>(values.bytes));
            }
            writer.Complete();
        }, extras);
    }

    /// <summary>The llava config.json that <see cref="LlavaConfig.FromJson"/> (and transformers) reads back.</summary>
    public static string ConfigJson(LlavaConfig c)
    {
        var text = JsonNode.Parse(c.Text.ToJson())!.AsObject();
        text.Remove("architectures");
        var v = c.Vision;
        var root = new JsonObject
        {
            ["architectures"] = new JsonArray("LlavaForConditionalGeneration"),
            ["model_type"] = "llava",
            ["image_token_index"] = c.ImageTokenIndex,
            ["vision_feature_layer"] = c.VisionFeatureLayers.Count == 1 ? c.VisionFeatureLayers[0] : new JsonArray(c.VisionFeatureLayers.Select(l => (JsonNode)l).ToArray()),
            ["vision_feature_select_strategy"] = c.VisionFeatureSelectStrategy,
            ["projector_hidden_act"] = c.ProjectorHiddenAct,
            ["multimodal_projector_bias"] = c.ProjectorBias,
            ["text_config"] = text,
            ["vision_config"] = new JsonObject
            {
                ["model_type"] = "clip_vision_model",
                ["hidden_size"] = v.HiddenSize, ["intermediate_size"] = v.IntermediateSize, ["num_hidden_layers"] = v.NumLayers,
                ["num_attention_heads"] = v.NumHeads, ["num_channels"] = v.NumChannels, ["image_size"] = v.ImageSize,
                ["patch_size"] = v.PatchSize, ["layer_norm_eps"] = v.LayerNormEps, ["hidden_act"] = v.HiddenAct,
                ["projection_dim"] = v.HiddenSize,
            },
            ["torch_dtype"] = "float32",
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}
