using System.Text;
using EvoMerge.IO;
using EvoMerge.Moe;
using EvoMerge.Torch.Moe;
using EvoMerge.Torch.Tests.Parity;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Tests.Moe;

/// <summary>
/// The models the MoE tests build from: a random Llama base (<see cref="RandomLlamaModel"/>, with its llama2.c
/// tokenizer) and "fine-tunes" of it whose MLP weights moved by noise as large as the weights themselves, while
/// attention, norms and embeddings stay the base's — so a MoE that routed every token to expert e would compute
/// exactly fine-tune e.
/// </summary>
sealed class MoeModels : IDisposable
{
    public readonly string Dir = Directory.CreateTempSubdirectory("evomerge-moe-").FullName;
    public readonly HfModelFixture Base = RandomLlamaModel.Create(seed: 11);

    public MoeModels()
    {
        RandomLlamaModel.WriteFolder(Path("base"), Base);
        for (int i = 1; i <= 3; i++) RandomLlamaModel.WriteFolder(Path($"ft{i}"), FineTune(Base, seed: 20 + i));
    }

    public string Path(string name) => System.IO.Path.Combine(Dir, name);

    public static HfModelFixture FineTune(HfModelFixture model, int seed)
    {
        var rng = new Random(seed);
        return model with
        {
            Tensors = model.Tensors.Select(t => t.Name.Contains(".mlp.")
                ? (t.Name, t.Shape, t.Values.Select(v => v + (float)(RouterGates.Gaussian(rng) * Math.Abs(v) * 1.5 + RouterGates.Gaussian(rng) * 0.05)).ToArray())
                : t).ToList(),
        };
    }

    /// <summary>A mergekit-moe YAML over the named folders; each expert gets its own prompts (none with <paramref name="noPrompts"/>).</summary>
    public string Config(string name, string gateMode, int perToken, IReadOnlyList<string> experts, bool negatives = false, string dtype = "float32")
    {
        var yaml = new StringBuilder();
        yaml.AppendLine($"base_model: {Path("base")}").AppendLine($"gate_mode: {gateMode}").AppendLine($"dtype: {dtype}")
            .AppendLine($"experts_per_token: {perToken}").AppendLine("experts:");
        for (int e = 0; e < experts.Count; e++)
        {
            yaml.AppendLine($"  - source_model: {Path(experts[e])}").AppendLine("    positive_prompts:");
            foreach (string p in Prompts[e]) yaml.AppendLine($"      - \"{p}\"");
            if (negatives) yaml.AppendLine("    negative_prompts:").AppendLine($"      - \"{Prompts[(e + 1) % experts.Count][0]}\"");
        }
        string path = Path(name + ".yml");
        File.WriteAllText(path, yaml.ToString());
        return path;
    }

    /// <summary>Distinct prompt lists of different lengths per expert (byte pieces and a few words of the tokenizer).</summary>
    public static readonly string[][] Prompts =
    [
        ["abc w300", "hello there"],
        ["xyz", "1 + 2 = 3 w270 w280"],
        ["The quick brown fox", "w259 w260"],
    ];

    /// <summary>Builds with the runtime's hidden-state source, as the command does.</summary>
    public MoeBuildResult Build(string config, string output, int seed = 0, bool allowIdentical = false) =>
        MoeBuilder.Build(MoeConfigParser.Load(config), output, new MoeBuildOptions
        {
            Seed = seed, AllowIdenticalExperts = allowIdentical, HiddenStates = folder => new TorchHiddenStateSource(folder, CPU),
        });

    /// <summary>Token-id prompts over the whole vocabulary for logit comparisons.</summary>
    public static IReadOnlyList<int[]> LogitPrompts(int vocab)
    {
        var rng = new Random(5);
        return [[1, 40, 70, 100, 260, 270], [.. Enumerable.Range(0, 14).Select(_ => rng.Next(vocab))], [1]];
    }

    /// <summary>A tensor of a folder's model.safetensors as float32.</summary>
    public static float[] Read(string folder, string name)
    {
        using var weights = SafetensorsModel.Open(folder);
        var values = new float[weights.GetInfo(name).ElementCount];
        weights.ReadFloat32(name, values);
        return values;
    }

    public void Dispose() => Directory.Delete(Dir, recursive: true);
}
