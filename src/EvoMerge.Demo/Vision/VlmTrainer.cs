using System.Text.Json.Nodes;
using EvoMerge.Torch.Model;
using EvoMerge.Torch.Runtime;
using EvoMerge.Torch.Training;
using EvoMerge.Torch.Vision.Images;
using EvoMerge.Torch.Vision.Model;
using EvoMerge.Torch.Vision.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EvoMerge.Demo.Vision;

/// <summary>
/// Trains model V from the demo base LM and writes it as a llava folder (<c>v/</c>) with a per-step log. Three
/// stages, each on English data of the VLM world only (held-out scenes never appear):
/// <list type="number">
/// <item><b>tower</b>: the ViT alone learns to see, by predicting each picture's kind, colour, count and row from its
/// class token (linear heads, thrown away afterwards). There is no pretrained tiny CLIP; this stands in for CLIP's
/// pretraining, which LLaVA takes as given.</item>
/// <item><b>projector</b> (LLaVA stage 1): the projector alone, tower and LM frozen, on captions.</item>
/// <item><b>projector + LM</b> (LLaVA stage 2): tower frozen, on English questions and captions.</item>
/// </list>
/// Deterministic for a seed and thread count on one machine, as the LLM demo's trainer.
/// </summary>
public static class VlmTrainer
{
    public const int BatchSize = 32;

    public static readonly TrainingOptions TowerOptions = new() { Steps = 800, LearningRate = 2e-3, WarmupSteps = 30 };
    public static readonly TrainingOptions ProjectorOptions = new() { Steps = 400, LearningRate = 1e-3, WarmupSteps = 20 };
    public static readonly TrainingOptions FineTuneOptions = new() { Steps = 500, LearningRate = 5e-4, WarmupSteps = 25 };

    /// <param name="baseFolder">The LLM demo's base model (<c>demo/models/base</c>).</param>
    /// <param name="outputFolder">Receives <c>v/</c> and <c>train-log.tsv</c> (default <c>demo/models/vlm</c>).</param>
    /// <param name="stepsScale">Fraction of every stage's steps (1 = the shipped model; tests use less).</param>
    public static void Train(string baseFolder, string outputFolder, int seed, IProgress<DemoTrainingProgress>? progress = null, double stepsScale = 1.0)
    {
        string vFolder = Path.Combine(outputFolder, VlmShape.VFolder);
        if (Directory.Exists(vFolder))
            throw new EvoMergeException($"{vFolder}: already exists; delete the old model first or choose another --out");
        using var baseModel = LoadedModel.Load(baseFolder);
        var tokenizer = new CharacterTokenizer();
        if (baseModel.Model.Config.VocabSize != tokenizer.VocabSize)
            throw new EvoMergeException($"{baseFolder}: vocab_size {baseModel.Model.Config.VocabSize}; expected the demo base's {tokenizer.VocabSize}");
        var config = VlmShape.Config(baseModel.Model.Config);
        var processor = ClipImageProcessor.FromJson(JsonNode.Parse(VlmShape.PreprocessorJson)!.AsObject(), "VlmShape");
        var world = new VisionWorld();
        Directory.CreateDirectory(outputFolder);
        string logPath = Path.Combine(outputFolder, "train-log.tsv");
        using var log = new StreamWriter(logPath + ".partial");
        log.WriteLine("stage\tstep\tloss\tlr");

        CausalLmTrainer.Seed(seed);
        using var model = new LlavaForConditionalGeneration(config);
        Initialise(model, baseModel.Model);

        using var heads = new SceneHeads(config.Vision.HiddenSize);
        var towerParams = model.VisionTower.parameters().Concat(heads.parameters()).ToList();
        Stage("tower", towerParams, TowerOptions, world.TrainingScenes(seed * 10 + 1).Chunk(BatchSize * 2), batch =>
        {
            var hidden = model.VisionTower.HiddenStates(Pixels(processor, batch), [-1]);
            return heads.Loss(hidden.select(1, 0), batch);
        });

        var projector = model.Projector.parameters().ToList();
        Stage("projector", projector, ProjectorOptions, world.Captions(seed * 10 + 2).Chunk(BatchSize),
            batch => TextLoss(model, processor, tokenizer, batch));

        var lm = model.LanguageModel.parameters().ToList();
        Stage("projector+LM", projector.Concat(lm).ToList(), FineTuneOptions, world.EnglishQa(seed * 10 + 3).Chunk(BatchSize),
            batch => TextLoss(model, processor, tokenizer, batch));

        model.eval();
        var tokenizerFiles = Directory.CreateTempSubdirectory("evomerge-vlm-tokenizer");
        try
        {
            VlmTokenizerFiles.Write(tokenizer, tokenizerFiles.FullName);
            LlavaWriter.Save(model, vFolder, VlmShape.PreprocessorJson, Directory.GetFiles(tokenizerFiles.FullName));
        }
        finally { tokenizerFiles.Delete(recursive: true); }
        log.Close();
        File.Move(logPath + ".partial", logPath, overwrite: true);

        void Stage<T>(string name, List<Parameter> trainable, TrainingOptions options, IEnumerable<T[]> batches, Func<T[], Tensor> loss)
        {
            var scaled = options with { Steps = Math.Max(1, (int)(options.Steps * stepsScale)) };
            var keep = trainable.ToHashSet();
            foreach (var p in model.parameters().Concat(heads.parameters())) p.requires_grad = keep.Contains(p);
            model.train();
            using var optimizer = optim.AdamW(trainable, lr: scaled.LearningRate, beta1: scaled.Beta1, beta2: scaled.Beta2, weight_decay: scaled.WeightDecay);
            using var data = batches.GetEnumerator();
            for (int step = 0; step < scaled.Steps; step++)
            {
                data.MoveNext();
                double lr = LearningRateSchedule.At(step, scaled);
                foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
                double value;
                using (var scope = NewDisposeScope())
                {
                    var l = loss(data.Current);
                    optimizer.zero_grad();
                    l.backward();
                    nn.utils.clip_grad_norm_(trainable, scaled.GradientClip);
                    optimizer.step();
                    value = l.item<float>();
                }
                log.WriteLine($"{name}\t{step + 1}\t{value:F5}\t{lr:G5}");
                progress?.Report(new DemoTrainingProgress(name, new TrainingStep(step + 1, scaled.Steps, value, lr)));
            }
        }
    }

    /// <summary>The base LM's weights into V's LM, the <c>&lt;image&gt;</c> row as the mean of the others (Hugging
    /// Face's resize default); small position and class embeddings for the fresh ViT (CLIP's initialisation scale).</summary>
    static void Initialise(LlavaForConditionalGeneration model, LlamaForCausalLM baseLm)
    {
        using var noGrad = no_grad();
        var source = baseLm.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in model.LanguageModel.named_parameters())
        {
            var s = source[name];
            if (p.shape[0] == s.shape[0] + 1)
            {
                p.narrow(0, 0, s.shape[0]).copy_(s);
                p.narrow(0, s.shape[0], 1).copy_(s.mean([0], keepdim: true));
            }
            else p.copy_(s);
        }
        foreach (var (name, p) in model.VisionTower.named_parameters())
            if (name.EndsWith("position_embedding.weight") || name.EndsWith("class_embedding")) nn.init.normal_(p, 0, 0.02);
    }

    static Tensor Pixels(ClipImageProcessor processor, IReadOnlyList<Scene> scenes)
    {
        int size = SceneRenderer.Size, n = size * size * 3;
        var all = new float[scenes.Count * n];
        for (int i = 0; i < scenes.Count; i++)
            processor.Process(new RgbImage(size, size, SceneRenderer.RenderRgb(scenes[i]))).CopyTo(all, i * n);
        return tensor(all, [scenes.Count, 3, size, size]);
    }

    /// <summary>
    /// Next-token loss on the answer (caption or reply) and EOS only, as LLaVA trains: the prompt and the image
    /// positions are not predicted. Sequences: BOS, the image positions, the prompt after the image, the answer, EOS.
    /// </summary>
    static Tensor TextLoss(LlavaForConditionalGeneration model, ClipImageProcessor processor, CharacterTokenizer tokenizer, VisionExample[] batch)
    {
        int imageToken = model.Config.ImageTokenIndex, tokens = model.Config.TokensPerImage;
        var sequences = batch.Select(e =>
        {
            string after = e.Prompt[VlmShape.ImageToken.Length..];
            var prompt = new List<int> { tokenizer.BosId!.Value };
            prompt.AddRange(Enumerable.Repeat(imageToken, tokens));
            prompt.AddRange(tokenizer.Encode(after, addBos: false));
            var answer = tokenizer.Encode(e.Target, addBos: false).Append(tokenizer.EosId!.Value).ToList();
            return (prompt, answer);
        }).ToArray();
        int width = sequences.Max(s => s.prompt.Count + s.answer.Count) - 1;
        var inputs = new long[batch.Length * width];
        var targets = new long[batch.Length * width];
        Array.Fill(inputs, tokenizer.PadId);
        Array.Fill(targets, TokenBatch.Ignore);
        for (int b = 0; b < batch.Length; b++)
        {
            var full = sequences[b].prompt.Concat(sequences[b].answer).ToArray();
            for (int t = 0; t + 1 < full.Length; t++)
            {
                inputs[b * width + t] = full[t];
                if (t + 1 >= sequences[b].prompt.Count) targets[b * width + t] = full[t + 1];
            }
        }
        Tensor features;
        using (no_grad()) features = model.VisionTower.HiddenStates(Pixels(processor, batch.Select(e => e.Scene).ToArray()), model.Config.VisionFeatureLayers);
        features = model.Projector.Forward(features.narrow(1, 1, features.shape[1] - 1));
        var logits = model.Forward(tensor(inputs, [batch.Length, width]), features);
        return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[^1]), tensor(targets), ignore_index: TokenBatch.Ignore);
    }

    /// <summary>Linear heads over the ViT's class token for the tower stage: kind, colour, count, row.</summary>
    sealed class SceneHeads : nn.Module
    {
        readonly LayerNorm norm;
        readonly Linear kind, colour, count, row;

        public SceneHeads(int width) : base(nameof(SceneHeads))
        {
            norm = Norms.Layer(width, 1e-5, null, ScalarType.Float32);
            kind = nn.Linear(width, WorldLexicon.Things.Count);
            colour = nn.Linear(width, WorldLexicon.Colours.Count);
            count = nn.Linear(width, Scene.MaxCount);
            row = nn.Linear(width, 3);
            RegisterComponents();
        }

        public Tensor Loss(Tensor cls, IReadOnlyList<Scene> scenes)
        {
            var h = norm.forward(cls);
            Tensor Ce(Linear head, Func<Scene, int> label) =>
                nn.functional.cross_entropy(head.forward(h), tensor(scenes.Select(s => (long)label(s)).ToArray()));
            return Ce(kind, s => IndexOf(WorldLexicon.Things, s.Thing)) + Ce(colour, s => IndexOf(WorldLexicon.Colours, s.Colour))
                + Ce(count, s => s.Count - 1) + Ce(row, s => (int)s.Row);
        }

        static int IndexOf<T>(IReadOnlyList<T> list, T item) where T : class
        {
            for (int i = 0; i < list.Count; i++) if (ReferenceEquals(list[i], item)) return i;
            throw new ArgumentException("not in the lexicon", nameof(item));
        }
    }
}
