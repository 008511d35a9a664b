using System.Runtime.InteropServices;
using System.Text.Json;
using EvoMerge.TestSupport;

namespace EvoMerge.Torch.Tests.Vision;

/// <summary>Drives <c>llava_reference.py</c>: random tiny llava folders and their float64 logits.</summary>
static class LlavaFixture
{
    static string Script => Path.Combine(AppContext.BaseDirectory, "Reference", "llava_reference.py");

    /// <summary>Writes a random llava folder (config, preprocessor config, F32 safetensors) into a new temp folder.</summary>
    public static string Make(int seed, string layout = "4", string strategy = "default", string layers = "-2", string text = "llama",
        int vocab = 72, int imageToken = 70)
    {
        string dir = Directory.CreateTempSubdirectory("llava-").FullName;
        var (code, _, err) = PythonReference.Run(
            $"\"{Script}\" make \"{dir}\" --seed {seed} --layout {layout} --strategy {strategy} --layers {layers} --text {text} --vocab {vocab} --image-token {imageToken}", TimeSpan.FromMinutes(2));
        Assert.True(code == 0, "llava_reference.py make failed: " + err);
        return dir;
    }

    public sealed record Case(int[] Ids, float[]? Pixels);

    /// <summary>Every position's logits of every case, float64 in Python, returned as float32.</summary>
    public static List<float[]> Logits(string dir, IReadOnlyList<Case> cases, int vocab) => Run($"logits \"{dir}\"", cases, vocab);

    /// <summary>
    /// The same for a DFS layer path (<c>path-logits</c>): <paramref name="models"/>[0] a llava (embeddings, image
    /// features, final norm, head), the others llava or plain Llama folders; each step's scale multiplies the tensor entering it.
    /// </summary>
    public static List<float[]> PathLogits(IReadOnlyList<string> models, IReadOnlyList<EvoMerge.Candidates.PathStep> steps, IReadOnlyList<Case> cases, int vocab)
    {
        string pathFile = Path.Combine(Directory.CreateTempSubdirectory("llava-path-").FullName, "path.json");
        try
        {
            File.WriteAllText(pathFile, JsonSerializer.Serialize(new
            {
                models,
                steps = steps.Select(s => new { model = s.Model, layer = s.Layer, scale = s.Scale }),
            }));
            return Run($"path-logits \"{pathFile}\"", cases, vocab);
        }
        finally { Directory.Delete(Path.GetDirectoryName(pathFile)!, recursive: true); }
    }

    static List<float[]> Run(string command, IReadOnlyList<Case> cases, int vocab)
    {
        string work = Directory.CreateTempSubdirectory("llava-ref-").FullName;
        try
        {
            var json = cases.Select((c, i) =>
            {
                string? pixels = null;
                if (c.Pixels != null)
                {
                    pixels = Path.Combine(work, $"pixels{i}.f32");
                    File.WriteAllBytes(pixels, MemoryMarshal.AsBytes(c.Pixels.AsSpan()).ToArray());
                }
                return new { ids = c.Ids, pixels };
            }).ToArray();
            string casesPath = Path.Combine(work, "cases.json"), outPath = Path.Combine(work, "logits.f32");
            File.WriteAllText(casesPath, JsonSerializer.Serialize(json));
            var (code, _, err) = PythonReference.Run($"\"{Script}\" {command} \"{casesPath}\" \"{outPath}\"", TimeSpan.FromMinutes(2));
            Assert.True(code == 0, "llava_reference.py failed: " + err);
            var all = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(outPath)).ToArray();
            var result = new List<float[]>();
            int offset = 0;
            foreach (var c in cases)
            {
                result.Add(all.AsSpan(offset, c.Ids.Length * vocab).ToArray());
                offset += c.Ids.Length * vocab;
            }
            Assert.Equal(all.Length, offset);
            return result;
        }
        finally { Directory.Delete(work, recursive: true); }
    }
}
