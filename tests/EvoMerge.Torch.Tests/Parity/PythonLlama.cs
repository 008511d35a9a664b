using System.Text.Json;
using EvoMerge.TestSupport;

namespace EvoMerge.Torch.Tests.Parity;

/// <summary>Runs <c>llama_reference.py</c> (PyTorch, float64) on a Hugging Face folder and reads its logits back.</summary>
public static class PythonLlama
{
    public static List<float[]> Logits(string modelDir, IReadOnlyList<int[]> prompts, int vocab, string? roundLike = null)
    {
        string work = Directory.CreateTempSubdirectory("pyref-").FullName;
        try
        {
            string promptsPath = Path.Combine(work, "prompts.json"), outPath = Path.Combine(work, "logits.f32");
            File.WriteAllText(promptsPath, JsonSerializer.Serialize(prompts));
            string script = Path.Combine(AppContext.BaseDirectory, "Reference", "llama_reference.py");
            string args = $"\"{script}\" \"{modelDir}\" \"{promptsPath}\" \"{outPath}\"" + (roundLike != null ? $" --round {roundLike}" : "");
            var (code, _, stderr) = PythonReference.Run(args, TimeSpan.FromMinutes(2));
            Assert.True(code == 0, "llama_reference.py failed: " + stderr);
            var all = File.ReadAllBytes(outPath);
            var results = new List<float[]>();
            int offset = 0;
            foreach (var p in prompts)
            {
                var logits = new float[p.Length * vocab];
                Buffer.BlockCopy(all, offset, logits, 0, logits.Length * 4);
                offset += logits.Length * 4;
                results.Add(logits);
            }
            Assert.Equal(all.Length, offset);
            return results;
        }
        finally { Directory.Delete(work, recursive: true); }
    }
}
