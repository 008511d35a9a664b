using System.Text.Json;
using EvoMerge.TestSupport;
using EvoMerge.Torch.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Tests.Demo;

public class CausalLmTrainerTests
{
    const int V = 7, D = 5;
    static readonly int[] A = [1, 2, 3, 4, 5], B = [6, 5, 4], C = [2, 2, 3, 1, 0, 6];
    static readonly TrainingOptions Options = new()
    {
        Steps = 8, WarmupSteps = 3, LearningRate = 0.05, MinLearningRateFraction = 0.1, WeightDecay = 0.1, GradientClip = 0.5,
    };

    static IEnumerable<IReadOnlyList<IReadOnlyList<int>>> Batches()
    {
        while (true)
        {
            yield return [A, B, C];
            yield return [C, A];
        }
    }

    // The same embedding + linear model as trainer_reference.py, initialised by the same formulas.
    static nn.Module<Tensor, Tensor> TinyModel()
    {
        var emb = nn.Embedding(V, D);
        var lin = nn.Linear(D, V);
        using (no_grad())
        {
            emb.weight!.copy_(tensor(Grid(V, D, k => Math.Sin(k) * 0.5), [V, D]));
            lin.weight!.copy_(tensor(Grid(V, D, k => Math.Cos(k) * 0.5), [V, D]));
            lin.bias!.copy_(tensor(Enumerable.Range(0, V).Select(i => (float)(0.1 * i - 0.3)).ToArray()));
        }
        return nn.Sequential(emb, lin);
    }

    static float[] Grid(int rows, int cols, Func<int, double> f) =>
        Enumerable.Range(0, rows * cols).Select(i => (float)f(1 + i)).ToArray();

    [PythonReferenceFact("torch")]
    public void MatchesPyTorchAdamWWithWarmupCosineClippingAndPadding()
    {
        torch.set_num_threads(1);
        var script = Path.Combine(SharedData.RepoRoot, "tests/EvoMerge.Torch.Tests/Demo/trainer_reference.py");
        var (code, stdout, stderr) = PythonReference.Run($"\"{script}\"", TimeSpan.FromMinutes(2));
        Assert.True(code == 0, stderr);
        using var reference = JsonDocument.Parse(stdout);

        var model = TinyModel();
        var losses = new List<double>();
        CausalLmTrainer.Train(model, Batches(), padId: 0, Options, new SyncProgress(s => losses.Add(s.Loss)));

        var expectedLosses = reference.RootElement.GetProperty("losses").EnumerateArray().Select(e => e.GetDouble()).ToList();
        Assert.Equal(expectedLosses.Count, losses.Count);
        for (int i = 0; i < losses.Count; i++) Assert.Equal(expectedLosses[i], losses[i], 5);
        var p = model.named_parameters().ToDictionary(x => x.name, x => x.parameter.data<float>().ToArray());
        AssertClose(reference.RootElement.GetProperty("embedding"), p["0.weight"]);
        AssertClose(reference.RootElement.GetProperty("weight"), p["1.weight"]);
        AssertClose(reference.RootElement.GetProperty("bias"), p["1.bias"]);
    }

    [Fact]
    public void SameSeedSameWeights()
    {
        torch.set_num_threads(1);
        float[] Run()
        {
            CausalLmTrainer.Seed(3);
            var model = nn.Sequential(nn.Embedding(V, D), nn.Linear(D, V));   // seeded random init
            CausalLmTrainer.Train(model, Batches(), padId: 0, Options);
            return model.parameters().SelectMany(x => x.data<float>().ToArray()).ToArray();
        }
        Assert.Equal(Run(), Run());
    }

    [Fact]
    public void ScheduleWarmsUpPeaksAndDecaysToTheFloor()
    {
        var o = new TrainingOptions { Steps = 11, WarmupSteps = 2, LearningRate = 1.0, MinLearningRateFraction = 0.1 };
        Assert.Equal(0.5, LearningRateSchedule.At(0, o), 12);
        Assert.Equal(1.0, LearningRateSchedule.At(1, o), 12);
        Assert.Equal(1.0, LearningRateSchedule.At(2, o), 12);
        // Halfway through the 8 decay intervals the cosine is at the midpoint between peak and floor.
        Assert.Equal(0.55, LearningRateSchedule.At(6, o), 12);
        Assert.Equal(0.1, LearningRateSchedule.At(10, o), 12);
    }

    static void AssertClose(JsonElement expected, float[] actual)
    {
        var flat = expected.ValueKind == JsonValueKind.Array && expected[0].ValueKind == JsonValueKind.Array
            ? expected.EnumerateArray().SelectMany(r => r.EnumerateArray()).Select(e => e.GetDouble()).ToArray()
            : expected.EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(flat.Length, actual.Length);
        for (int i = 0; i < flat.Length; i++) Assert.True(Math.Abs(flat[i] - actual[i]) < 1e-5, $"[{i}] {flat[i]} vs {actual[i]}");
    }

    /// <summary>Progress&lt;T&gt; posts to the thread pool; tests need the reports in order, on this thread.</summary>
    sealed class SyncProgress(Action<TrainingStep> report) : IProgress<TrainingStep>
    {
        public void Report(TrainingStep value) => report(value);
    }
}
