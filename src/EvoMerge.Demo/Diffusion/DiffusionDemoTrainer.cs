using System.Globalization;
using EvoMerge.IO;
using EvoMerge.Torch.Diffusion.Model;
using EvoMerge.Torch.Diffusion.Pipeline;
using EvoMerge.Torch.Diffusion.Scheduling;
using EvoMerge.Torch.Diffusion.Training;
using EvoMerge.Torch.Training;
using DiffusionPipeline = EvoMerge.Torch.Diffusion.Pipeline.DiffusionPipeline;

namespace EvoMerge.Demo.Diffusion;

/// <summary>One training report of <see cref="DiffusionDemoTrainer"/>: which model, which step.</summary>
public readonly record struct DiffusionTrainingProgress(string Model, TrainingStep Step);

/// <summary>
/// Trains the diffusion demo's sources from a seed, as the SDXL family came to be: a <c>base</c> that knows the
/// world in English; <c>ja</c> (J, JSDXL's part), the base fine-tuned on Japanese captions, text encoder included;
/// <c>lightning</c> (L, SDXL-Lightning's part), the base distilled from 32 to 4 DDIM steps on English captions
/// (<see cref="DiffusionTrainer.Distill"/>), its text encoder the base's; and the <c>judge</c>.
/// </summary>
public static class DiffusionDemoTrainer
{
    public const string Base = "base", Japanese = "ja", Lightning = "lightning", Judge = "judge", LogFile = "train-log.tsv";

    public static readonly UNetConfig Unet = new()
    {
        SampleSize = PictureRenderer.Size, InChannels = 3, OutChannels = 3, BlockOutChannels = [32, 64],
        DownBlockTypes = ["DownBlock2D", "CrossAttnDownBlock2D"], UpBlockTypes = ["CrossAttnUpBlock2D", "UpBlock2D"],
        LayersPerBlock = 1, CrossAttentionDim = 64, AttentionHeads = [2, 2], NormNumGroups = 8,
    };

    public static ClipTextConfig Text(int vocabSize) => new()
    {
        VocabSize = vocabSize, HiddenSize = 64, IntermediateSize = 128, NumLayers = 2, NumHeads = 2, MaxPositionEmbeddings = 24,
    };

    /// <summary>
    /// Steps and peak learning rate of each phase at <c>--steps-scale 1</c>. The judge is the measuring instrument, and
    /// cheap: it always trains its full steps, whatever the scale of the diffusion phases.
    /// </summary>
    public static readonly (string Name, int Steps, double LearningRate)[] Phases =
    [
        (Base, 2400, 1e-3), (Japanese, 800, 1e-3), (Lightning, 800, 5e-4), (Judge, 2000, 3e-3),
    ];

    /// <summary>
    /// L's distillation: from the base sampling with <see cref="TeacherSteps"/> DDIM steps (clean pictures) to the demo's
    /// <see cref="DiffusionDemoRunner.FewSteps"/>, on the teacher's trajectories for the captions of
    /// <see cref="TrajectoryBatches"/> batches (768 of them).
    /// </summary>
    public const int TeacherSteps = 32, TrajectoryBatches = 24;

    public const int BatchSize = 32;

    /// <summary>
    /// SDXL's noise schedule (β "scaled_linear" from 0.00085 to 0.012 over 1000 steps), not DDPM's linear 1e-4 … 0.02:
    /// under DDPM's, ᾱ at t = 999 is 4·10⁻⁵, so the first step of a 4-step sampler multiplies an ε-predictor's error
    /// by √((1−ᾱ)/ᾱ) = 157 (SDXL's: 15) and its second step still sees 6 % signal; an L distilled under it stayed as
    /// grainy as the base (world 0: L@4 on English prompts 0.26, J@4 on Japanese ones 0.26; docs/demo-diffusion.md).
    /// </summary>
    public static readonly NoiseSchedule Schedule = new() { BetaStart = 0.00085, BetaEnd = 0.012, BetaSchedule = "scaled_linear" };

    /// <param name="judgeOnly">Train only the judge (its seed and steps are those of a full run, so it is the same judge).</param>
    public static void TrainAll(string outDir, int seed, double stepsScale = 1, IProgress<DiffusionTrainingProgress>? progress = null, bool judgeOnly = false)
    {
        foreach (var name in judgeOnly ? [Judge] : new[] { Base, Japanese, Lightning, Judge })
            if (Directory.Exists(Path.Combine(outDir, name)) && Directory.EnumerateFileSystemEntries(Path.Combine(outDir, name)).Any())
                throw new EvoMergeException($"{Path.Combine(outDir, name)}: already exists; demo train diffusion does not overwrite models");
        Directory.CreateDirectory(outDir);
        var tokenizer = new CharacterTokenizer();
        var log = new List<string> { "model\tstep\tloss\tlr" };
        TrainingOptions Options(int phase)
        {
            double scale = Phases[phase].Name == Judge ? 1 : stepsScale;
            return new()
            {
                Steps = Math.Max(1, (int)(Phases[phase].Steps * scale)), LearningRate = Phases[phase].LearningRate,
                WarmupSteps = Math.Max(1, (int)(Phases[phase].Steps * scale / 20)), WeightDecay = 0.0,
            };
        }
        IProgress<TrainingStep> Report(string model) => new SyncProgress<TrainingStep>(s =>
        {
            // A skipped step (its loss or gradients not finite, DiffusionTrainer.MaxConsecutiveSkips) is logged as such.
            log.Add(string.Create(CultureInfo.InvariantCulture, $"{model}\t{s.Step}\t{(s.Skipped ? "skipped" : s.Loss.ToString("F5", CultureInfo.InvariantCulture))}\t{s.LearningRate:G4}"));
            progress?.Report(new DiffusionTrainingProgress(model, s));
        });
        void Save(DiffusionPipeline p, string name) => p.Save(Path.Combine(outDir, name), tokenizer.WriteHuggingFaceFiles);

        // The teacher's trajectories scale with the steps: a quick check should not wait for 768 of them.
        int trajectoryBatches = Math.Max(1, (int)Math.Round(TrajectoryBatches * Math.Min(1, stepsScale)));
        if (!judgeOnly) TrainSources(seed, tokenizer, Options, trajectoryBatches, Report, Save);
        CausalLmTrainer.Seed(seed * 7 + 5);   // the judge's initialisation and noise do not depend on the sources' training
        using var judge = new PictureJudge();
        judge.Train(seed * 7 + 5, Options(3), Report(Judge));
        OutputFolder.Write(Path.Combine(outDir, Judge), judge.Save);
        OutputFile.Write(Path.Combine(outDir, judgeOnly ? "judge-train-log.tsv" : LogFile), s =>
        {
            using var w = new StreamWriter(s, leaveOpen: true);
            foreach (var line in log) w.WriteLine(line);
            w.Flush();
        });
    }

    static void TrainSources(int seed, CharacterTokenizer tokenizer, Func<int, TrainingOptions> Options, int trajectoryBatches, Func<string, IProgress<TrainingStep>> Report,
        Action<DiffusionPipeline, string> Save)
    {
        CausalLmTrainer.Seed(seed);
        using var basePipeline = DiffusionPipeline.Create(Unet, Text(tokenizer.VocabSize), Schedule, tokenizer);
        DiffusionTrainer.Train(basePipeline, PictureData.Batches(seed * 7 + 1, BatchSize, p => p.English), Options(0), trainTextEncoder: true, Report(Base));
        Save(basePipeline, Base);

        using (var ja = basePipeline.Copy())
        {
            DiffusionTrainer.Train(ja, PictureData.Batches(seed * 7 + 2, BatchSize, p => p.Japanese), Options(1), trainTextEncoder: true, Report(Japanese));
            Save(ja, Japanese);
        }

        CausalLmTrainer.Seed(seed * 7 + 3);   // L's trajectories and draws do not depend on how J's training drew
        using var lightning = basePipeline.Copy();
        DiffusionTrainer.Distill(basePipeline, lightning, TeacherSteps, DiffusionDemoRunner.FewSteps, PictureData.Batches(seed * 7 + 3, BatchSize, p => p.English),
            trajectoryBatches, Options(2), Report(Lightning));
        Save(lightning, Lightning);
    }
}
