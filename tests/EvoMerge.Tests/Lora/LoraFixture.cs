using EvoMerge.IO;
using EvoMerge.Tests.Merge;

namespace EvoMerge.Tests.Lora;

/// <summary>
/// A base model and a fine-tune of it whose 2-D weights differ by G1·diag(d)·G2 (Gaussian G1, G2 of inner size
/// <see cref="DeltaRank"/>, d = 0.6^i): a difference of exact rank 6 with a decaying spectrum, as real fine-tunes have.
/// The final norm also changes, the embeddings do not.
/// </summary>
sealed class LoraFixture : IDisposable
{
    public const int DeltaRank = 6;

    public string Root { get; } = Directory.CreateTempSubdirectory("evomerge-lora-").FullName;
    public TestModels.Generated Base { get; }
    public string FineTune { get; }
    public Dictionary<string, float[]> FineTuneWeights { get; } = new();

    public LoraFixture(int hidden = 48, int seed = 1)
    {
        Base = TestModels.Write(Root, "base", seed, hidden: hidden);
        FineTune = Path.Combine(Root, "tuned");
        var rng = new Random(seed + 100);
        double Gauss() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var specs = Base.Weights.TensorNames.Select(n => { Base.Weights.TryGetShape(n, out var s); return new TensorSpec(n, DType.F32, s); }).ToList();
        using (var writer = SafetensorsWriter.Create(FineTune, specs))
        {
            foreach (var spec in specs)
            {
                var values = (float[])Base.Weights.Get(spec.Name).Clone();
                if (spec.Shape.Length == 2 && !spec.Name.Contains("embed"))
                {
                    int rows = (int)spec.Shape[0], cols = (int)spec.Shape[1];
                    var g1 = new double[rows, DeltaRank];
                    var g2 = new double[DeltaRank, cols];
                    for (int i = 0; i < rows; i++) for (int j = 0; j < DeltaRank; j++) g1[i, j] = Gauss() / Math.Sqrt(rows);
                    for (int i = 0; i < DeltaRank; i++) for (int j = 0; j < cols; j++) g2[i, j] = Gauss() / Math.Sqrt(cols);
                    for (int i = 0; i < rows; i++)
                        for (int j = 0; j < cols; j++)
                        {
                            double sum = 0;
                            for (int p = 0; p < DeltaRank; p++) sum += g1[i, p] * Math.Pow(0.6, p) * g2[p, j];
                            values[i * cols + j] += (float)(0.05 * sum);
                        }
                }
                else if (spec.Name == "model.norm.weight")
                    for (int i = 0; i < values.Length; i++) values[i] += 0.01f * (i + 1);
                writer.WriteFloat32(spec.Name, values);
                FineTuneWeights[spec.Name] = values;
            }
            writer.Complete();
        }
        File.Copy(Path.Combine(Base.Path, ModelFolder.ConfigFileName), Path.Combine(FineTune, ModelFolder.ConfigFileName));
    }

    public string Out(string name) => Path.Combine(Root, name);

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
