using EvoMerge.Evaluation;
using EvoMerge.IO;
using EvoMerge.TestSupport;
using EvoMerge.Torch.Import;
using EvoMerge.Torch.Runtime;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Tests.Evolution;

/// <summary>
/// Test models made from the real stories260K checkpoint: the base, and two "experts" A and B, each the base plus
/// its own seeded random task vector (noise of 15% of each tensor's RMS: small enough that the experts still
/// write stories, so sampled text re-tokenizes as it was generated; large enough to tell weights 0.1 apart).
/// Built once per test class.
/// </summary>
public sealed class StoriesExperts : IDisposable
{
    public const string Checkpoint = "models/stories260k/stories260K.bin";

    public string Root { get; } = Directory.CreateTempSubdirectory("evo-stories-").FullName;
    public string Base => Path.Combine(Root, "base");
    public string A => Path.Combine(Root, "a");
    public string B => Path.Combine(Root, "b");
    /// <summary>The base with its decoder layers in reverse order: real layers, at other positions.</summary>
    public string Reversed => Path.Combine(Root, "reversed");

    public StoriesExperts()
    {
        if (!SharedData.Has(Checkpoint)) return;   // the facts using this skip
        set_num_threads(2);
        Llama2cImporter.Import(SharedData.PathOf(Checkpoint), SharedData.PathOf("models/stories260k/tok512.bin"), Base);
        WriteTransformed(Base, A, (name, values) => AddNoise(values, seed: 1 + name.GetHashCode(StringComparison.Ordinal) % 1000, 0.15));
        WriteTransformed(Base, B, (name, values) => AddNoise(values, seed: 2000 + name.GetHashCode(StringComparison.Ordinal) % 1000, 0.15));
        WriteReversed(Base, Reversed);
    }

    static void WriteReversed(string source, string output)
    {
        using var folder = ModelFolder.Open(source);
        int last = folder.LayerCount - 1;
        WriteTransformed(source, output, (name, values) =>
        {
            int layer = folder.Layout.LayerOf(name);
            if (layer >= 0) Read(folder.Weights, folder.Layout.WithLayer(name, last - layer)).CopyTo(values);
        });
    }

    /// <summary>base + Σ wₖ·(θₖ − base): task arithmetic, written independently of the merge engine.</summary>
    public void WriteTaskArithmetic(string output, params (string Model, double Weight)[] terms)
    {
        var experts = terms.Select(t => (Folder: ModelFolder.Open(t.Model), t.Weight)).ToList();
        try
        {
            WriteTransformed(Base, output, (name, values) =>
            {
                var original = values.ToArray();
                foreach (var (folder, weight) in experts)
                {
                    var expert = Read(folder.Weights, name);
                    for (int i = 0; i < values.Length; i++) values[i] += (float)(weight * (expert[i] - original[i]));
                }
            });
        }
        finally
        {
            foreach (var e in experts) e.Folder.Dispose();
        }
    }

    /// <summary>Text the model writes from a few story openings (temperature 1, seeded): a sample of its distribution.</summary>
    public static string SampleText(string model, int tokens = 48)
    {
        using var loaded = LoadedModel.Load(model);
        var lm = new TorchLanguageModel(loaded.Model, loaded.Tokenizer, batchSize: 8);
        string[] openings = ["Once upon a time", "Lily", "The dog", "One day", "Tom and", "The sun", "She saw", "A little"];
        var replies = lm.Generate(openings, new GenerationOptions(MaxNewTokens: tokens, Temperature: 1, Seed: 7));
        return string.Join("\n", openings.Zip(replies, (o, r) => o + r));
    }

    static void AddNoise(Span<float> values, int seed, double relativeStd)
    {
        double rms = Math.Sqrt(values.ToArray().Average(v => (double)v * v));
        var random = new Random(seed);
        for (int i = 0; i < values.Length; i++)
        {
            // Box–Muller: a standard normal from two uniforms.
            double normal = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            values[i] += (float)(relativeStd * rms * normal);
        }
    }

    static float[] Read(SafetensorsModel weights, string name)
    {
        var info = weights.GetInfo(name);
        var values = new float[info.ElementCount];
        FloatConversion.ToFloat32(weights.GetBytes(name), info.DType, values);
        return values;
    }

    /// <summary>Copies a model folder, passing every tensor through <paramref name="transform"/> as float32.</summary>
    static void WriteTransformed(string source, string output, Action<string, Span<float>> transform)
    {
        using var folder = ModelFolder.Open(source);
        Directory.CreateDirectory(output);
        using (var writer = SafetensorsWriter.Create(output, folder.Weights.Tensors.Select(t => new TensorSpec(t.Name, DType.F32, t.Shape))))
        {
            foreach (var t in folder.Weights.Tensors)
            {
                var values = Read(folder.Weights, t.Name);
                transform(t.Name, values);
                writer.WriteFloat32(t.Name, values);
            }
            writer.Complete();
        }
        File.Copy(Path.Combine(source, ModelFolder.ConfigFileName), Path.Combine(output, ModelFolder.ConfigFileName));
        folder.CopyAuxiliaryFilesTo(output);
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
