using System.Text.Json;
using EvoMerge.IO;
using EvoMerge.Tokenization;

namespace EvoMerge.Torch.Import;

/// <summary>
/// Writes a llama2.c checkpoint and tokenizer as a Hugging Face-style folder: <c>config.json</c>,
/// <c>model.safetensors</c> (float32), <c>tokenizer.bin</c> (the llama2.c tokenizer, byte for byte) and a
/// <c>tokenizer_config.json</c> naming BOS/EOS. Everything is written to <c>&lt;out&gt;.partial</c> and renamed
/// at the end, so a failure never leaves a folder that looks complete.
/// </summary>
public static class Llama2cImporter
{
    public static void Import(string checkpointPath, string tokenizerPath, string outDir, IProgress<string>? progress = null)
    {
        string target = Path.GetFullPath(outDir);
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
            throw new EvoMergeException($"{outDir}: already exists and is not empty; choose a new output folder");
        progress?.Report($"reading {checkpointPath}");
        var checkpoint = Llama2cCheckpoint.Read(checkpointPath);
        // Loading checks that the tokenizer file has exactly the model's vocabulary.
        Llama2cTokenizer.Load(tokenizerPath, checkpoint.Config.VocabSize);

        string partial = target + ".partial";
        if (Directory.Exists(partial)) Directory.Delete(partial, recursive: true);
        Directory.CreateDirectory(partial);
        try
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
            if (Directory.Exists(target)) Directory.Delete(target);
            Directory.Move(partial, target);
        }
        catch
        {
            if (Directory.Exists(partial)) Directory.Delete(partial, recursive: true);
            throw;
        }
    }
}
