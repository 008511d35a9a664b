using System.Runtime.InteropServices;
using EvoMerge.IO;
using EvoMerge.Torch.Model;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Runtime;

/// <summary>Saves a model (trained or merged in memory) as a Hugging Face folder: config.json + safetensors.</summary>
public static class ModelWriter
{
    /// <param name="dtype">Stored dtype of the weights (F32, BF16, F16).</param>
    /// <param name="extraFiles">Files copied in unchanged, e.g. the tokenizer files of the source folder.</param>
    public static void Save(LlamaForCausalLM model, string folder, DType dtype = DType.F32,
        string architecture = "LlamaForCausalLM", IEnumerable<string>? extraFiles = null)
    {
        var parameters = model.named_parameters().ToArray();
        var extras = (extraFiles ?? []).ToList();
        OutputFolder.Write(folder, partial =>
        {
            File.WriteAllText(Path.Combine(partial, ModelFolder.ConfigFileName), model.Config.ToJson(architecture));
            foreach (var file in extras) File.Copy(file, Path.Combine(partial, Path.GetFileName(file)));
            using var writer = SafetensorsWriter.Create(partial, parameters.Select(p => new TensorSpec(p.name, dtype, p.parameter.shape)));
            foreach (var (name, p) in parameters)
            {
                using var scope = NewDisposeScope();
                var values = p.detach().to_type(ScalarType.Float32).cpu().contiguous();
                writer.WriteFloat32(name, MemoryMarshal.Cast<byte, float>(values.bytes));
            }
            writer.Complete();
        }, extras);
    }
}
