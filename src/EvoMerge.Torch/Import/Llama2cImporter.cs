using System.Text.Json;
using EvoMerge.IO;
using EvoMerge.Tokenization;
using EvoMerge.Torch.Runtime;

namespace EvoMerge.Torch.Import;

/// <summary>
/// Writes a llama2.c checkpoint and tokenizer as a Hugging Face-style folder: <c>config.json</c>,
/// <c>model.safetensors</c> (float32), <c>tokenizer.bin</c> (the llama2.c tokenizer, byte for byte) and a
/// <c>tokenizer_config.json</c> naming BOS/EOS, all or nothing (<see cref="OutputFolder"/>).
/// </summary>
public static class Llama2cImporter
{
    public static void Import(string checkpointPath, string tokenizerPath, string outDir, IProgress<string>? progress = null)
    {
        progress?.Report($"reading {checkpointPath}");
        var checkpoint = Llama2cCheckpoint.Read(checkpointPath);
        // Loading checks that the tokenizer file has exactly the model's vocabulary.
        Llama2cTokenizer.Load(tokenizerPath, checkpoint.Config.VocabSize);

        OutputFolder.Write(outDir, partial =>
        {
            File.WriteAllText(Path.Combine(partial, ModelFolder.ConfigFileName), checkpoint.Config.ToJson());
            File.Copy(tokenizerPath, Path.Combine(partial, TokenizerFactory.Llama2cFileName));
            File.WriteAllText(Path.Combine(partial, "tokenizer_config.json"), JsonSerializer.Serialize(
                new Dictionary<string, object> { ["bos_token"] = "<s>", ["eos_token"] = "</s>" },
                new JsonSerializerOptions { WriteIndented = true }));
            progress?.Report($"writing {checkpoint.Tensors.Count} tensors");
            using (var writer = SafetensorsWriter.Create(partial, checkpoint.Tensors.Select(t => new TensorSpec(t.Name, DType.F32, t.Shape)),
                       metadata: new Dictionary<string, string> { ["source"] = "llama2.c " + Path.GetFileName(checkpointPath) }))
            {
                foreach (var (name, _, values) in checkpoint.Tensors) writer.WriteFloat32(name, values);
                writer.Complete();
            }
        }, [checkpointPath, tokenizerPath]);
    }
}
