using EvoMerge.Demo;
using EvoMerge.Torch.Model;
using EvoMerge.Torch.Runtime;
using EvoMerge.Torch.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace EvoMerge.Demo;

/// <summary>Progress of <c>demo train</c>: which model, and the trainer's step report.</summary>
public readonly record struct DemoTrainingProgress(string Model, TrainingStep Step);

/// <summary>
/// Trains the demo's three models from one seed: a bilingual base, then two short fine-tunes of it that stay in its
/// basin (A "Japanese": Japanese text + QA; B "English math"). Writes them to <c>base/</c>, <c>ja/</c>, <c>math/</c>
/// and a per-step log; then the joint fine-tune baseline (A's and B's data together) to <c>joint/</c>. Deterministic
/// for a seed and thread count on one machine.
/// </summary>
public static class DemoTrainer
{
    public const int BatchSize = 32;

    public static readonly TrainingOptions BaseOptions = new() { Steps = 2000, LearningRate = 2e-3, WarmupSteps = 100 };
    public static readonly TrainingOptions JapaneseOptions = new() { Steps = 500, LearningRate = 5e-4, WarmupSteps = 25 };
    /// <summary>Gentler than the 800 steps at 1e-3, which made B forget the Japanese counters entirely.</summary>
    public static readonly TrainingOptions MathOptions = new() { Steps = 400, LearningRate = 3e-4, WarmupSteps = 25 };
    /// <summary>The paper's fine-tuning baseline in miniature: as many steps as A's and B's together, on both mixes.</summary>
    public static readonly TrainingOptions JointOptions = new() { Steps = 900, LearningRate = 4e-4, WarmupSteps = 25 };

    /// <param name="stepsScale">Fraction of every phase's steps (1 = the shipped models; tests use less).</param>
    public static void TrainAll(string outputFolder, int seed, IProgress<DemoTrainingProgress>? progress = null, double stepsScale = 1.0)
    {
        var tokenizer = new CharacterTokenizer();
        var config = DemoModelShape.Config(tokenizer);
        foreach (var folder in new[] { DemoModelShape.BaseFolder, DemoModelShape.JapaneseFolder, DemoModelShape.MathFolder, DemoModelShape.JointFolder })
            if (Directory.Exists(Path.Combine(outputFolder, folder)))
                throw new EvoMergeException($"{Path.Combine(outputFolder, folder)}: already exists; delete the old models first or choose another --out");
        Directory.CreateDirectory(outputFolder);
        using var log = new StreamWriter(Path.Combine(outputFolder, "train-log.tsv"));
        log.WriteLine("model\tstep\tloss\tlr");
        var trainer = new Phases(outputFolder, tokenizer, log, progress, stepsScale);

        CausalLmTrainer.Seed(seed);
        using var baseModel = new LlamaForCausalLM(config);
        baseModel.InitializeWeights();
        trainer.Train("base", baseModel, LineMix.Base, BaseOptions, seed * 10 + 1);
        trainer.Save(baseModel, DemoModelShape.BaseFolder);

        foreach (var (name, folder, mix, options, stream) in new[]
                 {
                     ("A (ja)", DemoModelShape.JapaneseFolder, LineMix.Japanese, JapaneseOptions, 2),
                     ("B (math)", DemoModelShape.MathFolder, LineMix.EnglishMath, MathOptions, 3),
                 })
            trainer.FineTune(baseModel, config, name, folder, mix, options, seed * 10 + stream);
        TrainJoint(trainer, baseModel, config, seed);
    }

    /// <summary>
    /// Adds the joint fine-tune (<c>joint/</c>) to models trained before it existed: the same model <see cref="TrainAll"/>
    /// trains for the seed, appended to <c>train-log.tsv</c>.
    /// </summary>
    public static void TrainJoint(string modelsFolder, int seed, IProgress<DemoTrainingProgress>? progress = null, double stepsScale = 1.0)
    {
        string target = Path.Combine(modelsFolder, DemoModelShape.JointFolder);
        if (Directory.Exists(target)) throw new EvoMergeException($"{target}: already exists; delete it first or choose another --out");
        var tokenizer = new CharacterTokenizer();
        var config = DemoModelShape.Config(tokenizer);
        using var loaded = LoadedModel.Load(Path.Combine(modelsFolder, DemoModelShape.BaseFolder));
        using var log = new StreamWriter(Path.Combine(modelsFolder, "train-log.tsv"), append: true);
        TrainJoint(new Phases(modelsFolder, tokenizer, log, progress, stepsScale), loaded.Model, config, seed);
    }

    static void TrainJoint(Phases trainer, LlamaForCausalLM baseModel, LlamaConfig config, int seed)
    {
        // Its own torch seed, so that it is the same model whether trained right after B or later from base/.
        CausalLmTrainer.Seed(seed * 10 + 4);
        trainer.FineTune(baseModel, config, "joint (ja + math)", DemoModelShape.JointFolder, LineMix.Joint, JointOptions, seed * 10 + 4);
    }

    /// <summary>One training phase after another into one models folder and log.</summary>
    sealed class Phases(string outputFolder, CharacterTokenizer tokenizer, StreamWriter log, IProgress<DemoTrainingProgress>? progress, double stepsScale)
    {
        readonly MiniatureWorld _world = new();

        public void FineTune(LlamaForCausalLM baseModel, LlamaConfig config, string name, string folder, LineMix mix, TrainingOptions options, int dataSeed)
        {
            using var model = new LlamaForCausalLM(config);
            CopyWeights(baseModel, model);
            Train(name, model, mix, options, dataSeed);
            Save(model, folder);
        }

        public void Train(string name, LlamaForCausalLM model, LineMix mix, TrainingOptions options, int dataSeed)
        {
            var scaled = options with { Steps = Math.Max(1, (int)(options.Steps * stepsScale)) };
            var batches = _world.Lines(mix, dataSeed).Select(line => tokenizer.Encode(line, addBos: true).Append(tokenizer.EosId!.Value).ToList())
                .Chunk(BatchSize).Select(b => (IReadOnlyList<IReadOnlyList<int>>)b);
            CausalLmTrainer.Train(model, batches, tokenizer.PadId, scaled, new SyncProgress<TrainingStep>(step =>
            {
                log.WriteLine($"{name}\t{step.Step}\t{step.Loss:F5}\t{step.LearningRate:G5}");
                progress?.Report(new DemoTrainingProgress(name, step));
            }));
        }

        public void Save(LlamaForCausalLM model, string folder)
        {
            var tokenizerFiles = Directory.CreateTempSubdirectory("evomerge-demo-tokenizer");
            try
            {
                tokenizer.WriteHuggingFaceFiles(tokenizerFiles.FullName);
                ModelWriter.Save(model, Path.Combine(outputFolder, folder), extraFiles: Directory.GetFiles(tokenizerFiles.FullName));
            }
            finally { tokenizerFiles.Delete(recursive: true); }
        }
    }

    static void CopyWeights(LlamaForCausalLM from, LlamaForCausalLM to)
    {
        using var noGrad = no_grad();
        var source = from.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in to.named_parameters()) p.copy_(source[name]);
    }
}
