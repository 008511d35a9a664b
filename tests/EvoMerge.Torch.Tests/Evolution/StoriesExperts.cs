using EvoMerge.Anatomy;
using EvoMerge.Evaluation;
using EvoMerge.IO;
using EvoMerge.TestSupport;
using EvoMerge.Torch.Import;
using EvoMerge.Torch.Runtime;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Tests.Evolution;

/// <summary>
/// Test models made from the real stories260K checkpoint: the base, and two "experts" A and B, each the base plus
/// its own seeded random task vector (noise of 30% of each tensor's RMS: small enough that the experts still
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
        WriteTransformed(Base, A, (index, values) => AddNoise(values, seed: 1000 + index, 0.3));
        WriteTransformed(Base, B, (index, values) => AddNoise(values, seed: 2000 + index, 0.3));
        WriteReversed(Base, Reversed);
    }

    static void WriteReversed(string source, string output)
    {
        using var folder = ModelFolder.Open(source);
        int last = folder.LayerCount - 1;
        var names = folder.Weights.Tensors.Select(t => t.Name).ToList();
        WriteTransformed(source, output, (index, values) =>
        {
            int layer = folder.Anatomy.LayerOf(names[index]);
            if (layer >= 0) Read(folder.Weights, folder.Anatomy.WithLayer(names[index], last - layer)).CopyTo(values);
        });
    }

    /// <summary>base + Σ wₖ·(θₖ − base): task arithmetic, written independently of the merge engine.</summary>
    public void WriteTaskArithmetic(string output, params (string Model, double Weight)[] terms)
    {
        var experts = terms.Select(t => (Folder: ModelFolder.Open(t.Model), t.Weight)).ToList();
        try
        {
            using var reference = ModelFolder.Open(Base);
            var names = reference.Weights.Tensors.Select(t => t.Name).ToList();
            WriteTransformed(Base, output, (index, values) =>
            {
                var original = values.ToArray();
                foreach (var (folder, weight) in experts)
                {
                    var expert = Read(folder.Weights, names[index]);
                    for (int i = 0; i < values.Length; i++) values[i] += (float)(weight * (expert[i] - original[i]));
                }
            });
        }
        finally
        {
            foreach (var e in experts) e.Folder.Dispose();
        }
    }

    /// <summary>What the model writes after a few story openings (temperature 1, seeded): a sample of its distribution.</summary>
    public static IReadOnlyList<ContinuationRequest> SampleStories(string model, int tokens, int seed = 7)
    {
        using var loaded = LoadedModel.Load(model);
        var lm = new TorchLanguageModel(loaded.Model, loaded.Tokenizer, batchSize: 8);
        string[] openings = ["Once upon a time", "Lily", "The dog", "One day", "Tom and", "The sun", "She saw", "A little",
            "The cat", "Mom said", "Ben", "In the park", "The bird", "They", "Sue had", "It was"];
        var replies = lm.Generate(openings, new GenerationOptions(MaxNewTokens: tokens, Temperature: 1, Seed: seed));
        return openings.Zip(replies, (o, r) => new ContinuationRequest(o, r)).ToList();
    }

    static void AddNoise(float[] values, int seed, double relativeStd)
    {
        double rms = Math.Sqrt(values.Average(v => (double)v * v));
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

    /// <summary>Copies a model folder, passing every tensor (by its index in the file) through <paramref name="transform"/> as float32.</summary>
    static void WriteTransformed(string source, string output, Action<int, float[]> transform)
    {
        using var folder = ModelFolder.Open(source);
        Directory.CreateDirectory(output);
        using (var writer = SafetensorsWriter.Create(output, folder.Weights.Tensors.Select(t => new TensorSpec(t.Name, DType.F32, t.Shape))))
        {
            foreach (var (t, index) in folder.Weights.Tensors.Select((t, i) => (t, i)))
            {
                var values = Read(folder.Weights, t.Name);
                transform(index, values);
                writer.WriteFloat32(t.Name, values);
            }
            writer.Complete();
        }
        File.Copy(Path.Combine(source, ModelFolder.ConfigFileName), Path.Combine(output, ModelFolder.ConfigFileName));
        folder.CopyAuxiliaryFilesTo(output);
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
