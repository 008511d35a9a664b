using EvoMerge.IO;
using EvoMerge.Torch.Model;

namespace EvoMerge.Torch.Tests.Parity;

/// <summary>A Llama-family model as the parity tests hand it around: config, float32 tensors in HF naming.</summary>
public sealed record HfModelFixture(LlamaConfig Config, IReadOnlyList<(string Name, long[] Shape, float[] Values)> Tensors,
    string Architecture = "LlamaForCausalLM")
{
    /// <summary>Writes a Hugging Face folder (config.json, model.safetensors in float32) and, when given, the
    /// llama2.c tokenizer as <c>tokenizer.bin</c>, the way <c>evomerge import llama2c</c> lays a model out.</summary>
    public void WriteFolder(string dir, string? llama2cTokenizer = null)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, ModelFolder.ConfigFileName), Config.ToJson(Architecture));
        using (var writer = SafetensorsWriter.Create(dir, Tensors.Select(t => new TensorSpec(t.Name, DType.F32, t.Shape))))
        {
            foreach (var (name, _, values) in Tensors) writer.WriteFloat32(name, values);
            writer.Complete();
        }
        if (llama2cTokenizer != null) File.Copy(llama2cTokenizer, Path.Combine(dir, "tokenizer.bin"));
    }
}
