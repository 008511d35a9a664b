using System.Runtime.InteropServices;
using EvoMerge.Demo;
using EvoMerge.IO;
using EvoMerge.Torch.Model;

namespace EvoMerge.Torch.Demo;

/// <summary>Saves a trained demo model as a Hugging Face folder: config.json, model.safetensors (float32), tokenizer.</summary>
public static class DemoModelWriter
{
    public static void Save(LlamaForCausalLM model, CharacterTokenizer tokenizer, string folder)
    {
        Directory.CreateDirectory(folder);
        var parameters = model.named_parameters().ToList();
        using (var writer = SafetensorsWriter.Create(folder,
                   parameters.Select(p => new TensorSpec(p.name, DType.F32, p.parameter.shape)),
                   metadata: new Dictionary<string, string> { ["producer"] = "evomerge demo train" }))
        {
            foreach (var (name, p) in parameters)
                writer.WriteFloat32(name, MemoryMarshal.Cast<byte, float>(p.contiguous().bytes));
            writer.Complete();
        }
        File.WriteAllText(Path.Combine(folder, ModelFolder.ConfigFileName), model.Config.ToJson());
        tokenizer.WriteHuggingFaceFiles(folder);
    }
}
