using EvoMerge.Candidates;
using EvoMerge.Evaluation;
using EvoMerge.Evolution;
using EvoMerge.Evolution.Config;
using EvoMerge.Evolution.Output;
using EvoMerge.Evolution.Spaces;
using EvoMerge.IO;
using EvoMerge.Merge.Recipes;
using EvoMerge.TestSupport;
using EvoMerge.Torch.Evolution;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Tests.Evolution;

/// <summary>
/// The in-process evaluator with LoRAs: a <c>model+lora</c> source folded when the sources load (merge session, resident
/// source) and <c>ps.loras</c> folded into each merge on its way to the resident model score exactly as the models the
/// core writes for the same builds (the path the numpy LoRA references check), and differ from the unfolded ones.
/// </summary>
public class LoraSourceTorchTests(StoriesExperts experts) : IClassFixture<StoriesExperts>
{
    /// <summary>A PEFT adapter (r 2, alpha 4) on every q_proj and up_proj of the stories model.</summary>
    string Adapter(string name, int seed)
    {
        string folder = Path.Combine(experts.Root, name);
        var rng = new Random(seed);
        float[] Gaussian(long n) => Enumerable.Range(0, (int)n).Select(_ => (float)(0.05 * Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()))).ToArray();
        var tensors = new List<(string Name, long[] Shape, float[] Values)>();
        using (var model = ModelFolder.Open(experts.A))
            foreach (var t in model.Weights.Tensors.Where(t => t.Name.EndsWith("q_proj.weight") || t.Name.EndsWith("up_proj.weight")))
            {
                string module = "base_model.model." + t.Name[..^".weight".Length];
                tensors.Add((module + ".lora_A.weight", [2, t.Shape[1]], Gaussian(2 * t.Shape[1])));
                tensors.Add((module + ".lora_B.weight", [t.Shape[0], 2], Gaussian(2 * t.Shape[0])));
            }
        string partial = folder + ".partial";
        using (var writer = SafetensorsWriter.Create(partial, tensors.Select(t => new TensorSpec(t.Name, DType.F32, t.Shape))))
        {
            foreach (var t in tensors) writer.WriteFloat32(t.Name, t.Values);
            writer.Complete();
        }
        Directory.CreateDirectory(folder);
        File.Move(Path.Combine(partial, SafetensorsModel.SingleFileName), Path.Combine(folder, "adapter_model.safetensors"));
        Directory.Delete(partial, recursive: true);
        File.WriteAllText(Path.Combine(folder, "adapter_config.json"), """{"peft_type": "LORA", "r": 2, "lora_alpha": 4}""");
        return folder;
    }

    [SharedDataFact(StoriesExperts.Checkpoint)]
    public void Model_plus_lora_sources_and_ps_loras_score_as_the_written_models()
    {
        string first = Adapter("adapter-1", 1), second = Adapter("adapter-2", 2);
        var stories = StoriesExperts.SampleStories(experts.A, tokens: 32);
        var options = new TorchEvaluatorOptions(Threads: 1, DType: ScalarType.Float32, BatchSize: 8, TaskFactory: _ => new StoryLikelihoodTask(stories));
        var config = new EvolutionConfig { Name = "lora", Models = [experts.A, experts.B], Fitness = [new TaskConfig { Task = "perplexity", Data = "stories" }], BaseDirectory = experts.Root };
        var work = TaskSpecs.Work(config.Fitness, null, config);
        using var evaluator = new TorchCandidateEvaluator(options);
        double Score(ModelBuild build) => evaluator.EvaluateOne(build, work).Scores[0];
        double Written(ModelBuild build, string name)
        {
            string folder = Path.Combine(experts.Root, name);
            CandidateModelWriter.Write(build, folder, evaluator.LayerCount(experts.A), "float32");
            return Score(new SourceBuild(folder));
        }

        // A source with its LoRA folded in, loaded as a resident model.
        string folded = experts.A + "+" + first;
        double source = Score(new SourceBuild(folded));
        Assert.Equal(Written(new SourceBuild(folded), "source-written"), source, 5);
        Assert.NotEqual(Score(new SourceBuild(experts.A)), source, 3);

        // A merge over it, with a second LoRA on the result at strength 0.7.
        var ps = new PsConfig { Method = "linear", Parameters = ["weight"], Loras = [new WeightedLora(second, 0.7)] };
        var merge = new PsSpace(ps, null, [folded, experts.B], evaluator.LayerCount(experts.A)).Uniform(new Dictionary<string, double> { ["weight"] = 0.5 });
        double merged = Score(merge);
        Assert.Equal(Written(merge, "merge-written"), merged, 5);
        var plain = new PsSpace(ps with { Loras = [] }, null, [experts.A, experts.B], evaluator.LayerCount(experts.A)).Uniform(new Dictionary<string, double> { ["weight"] = 0.5 });
        Assert.NotEqual(Score(plain), merged, 3);
    }
}
