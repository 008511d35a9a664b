using System.Diagnostics;
using EvoMerge.Evaluation;
using EvoMerge.Evolution.Optimizers;
using EvoMerge.Torch.Diffusion.Pipeline;
using static TorchSharp.torch;

namespace EvoMerge.Demo.Diffusion;

/// <summary>Where the diffusion demo reads its models and writes its run; <see cref="Quick"/> is the suite's smoke size.</summary>
public sealed record DiffusionDemoOptions(string ModelsFolder, string OutputFolder, int Seed = 0, bool Quick = false);

/// <summary>
/// The miniature EvoSDXL-JP: J (Japanese, many steps), L (English, distilled to 4 steps) and their merges on their
/// common base (<see cref="PipelineMixer"/>), each scored on the Japanese test prompts at 4 DDIM steps by the judge.
/// The two searches are CMA-ES over the scales of J's and L's deltas in every UNet block's attention and conv parts
/// (EvoSDXL-JP's genome), starting from its recipe J + ΔL: one with the scale of J's text-encoder delta as one more
/// gene, one with J's text encoder as EvoSDXL-JP takes JSDXL's. Fitness is mean fidelity on the dev prompts (disjoint
/// captions from test) at 4 steps; the table is on test only.
/// </summary>
public static class DiffusionDemoRunner
{
    public const int FewSteps = 4, ManySteps = 50;

    /// <summary>The row of EvoSDXL-JP's hand-set part: J's UNet and text encoder plus L's whole delta (base + ΔJ + ΔL).</summary>
    public const string RecipeRow = "J+ΔL";

    /// <summary>The largest scale of a source's delta the searches may choose (twice the recipe's 1).</summary>
    public const double MaxScale = 2;

    sealed record Scored(double[] Fidelity, double Fd, Tensor Images);

    public static DiffusionSummary Run(DiffusionDemoOptions o, IProgress<string>? progress = null, CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        if (Directory.Exists(o.OutputFolder) && Directory.EnumerateFileSystemEntries(o.OutputFolder).Any())
            throw new EvoMergeException($"{o.OutputFolder}: output folder must be new or empty");
        string Model(string name) => Path.Combine(o.ModelsFolder, name);
        using var j = DiffusionPipeline.Load(Model(DiffusionDemoTrainer.Japanese));
        using var l = DiffusionPipeline.Load(Model(DiffusionDemoTrainer.Lightning));
        using var judge = PictureJudge.Load(Model(DiffusionDemoTrainer.Judge));

        var (dev, test) = PictureWorld.Splits();
        if (o.Quick) (dev, test) = (dev.Take(8).ToList(), test.Take(12).ToList());
        using var realFeatures = RealFeatures(judge, o.Quick ? 96 : 384);

        Scored Score(DiffusionPipeline p, IReadOnlyList<EvalPrompt> prompts, int steps, bool english = false)
        {
            cancel.ThrowIfCancellationRequested();
            var images = p.Generate(prompts.Select(e => english ? e.Picture.English : e.Picture.Japanese).ToList(), prompts.Select(e => e.Seed).ToList(), steps);
            var fidelity = judge.Fidelity(images, prompts.Select(e => e.Picture).ToList());
            using var _ = no_grad();
            using var features = judge.Features(images);
            return new Scored(fidelity, PictureJudge.FrechetDistance(features, realFeatures), images);
        }

        var rows = new List<DiffusionRow>();
        var grids = new List<(string Name, Tensor Images)>();
        void Add(string name, int steps, Scored s, double seconds, int evaluations = 0, double? dev = null, IReadOnlyDictionary<string, double>? weights = null)
        {
            rows.Add(new DiffusionRow(name, steps, s.Fidelity.Average(), s.Fd, evaluations, Math.Round(seconds, 2), dev, weights, s.Fidelity));
            grids.Add((name, s.Images));
            progress?.Report($"{name}: fidelity {s.Fidelity.Average():F3}, realism FD {s.Fd:F2}");
        }
        Scored Timed(Func<Scored> f, out double seconds)
        {
            var t = Stopwatch.StartNew();
            var s = f();
            seconds = t.Elapsed.TotalSeconds;
            return s;
        }

        Add("J@4", FewSteps, Timed(() => Score(j, test, FewSteps), out double s1), s1);
        Add("L@4", FewSteps, Timed(() => Score(l, test, FewSteps), out double s2), s2);
        Add("J@50", ManySteps, Timed(() => Score(j, test, ManySteps), out double s3), s3);
        Add("L@4-en", FewSteps, Timed(() => Score(l, test, FewSteps, english: true), out double s4), s4);

        using var baseModel = DiffusionPipeline.Load(Model(DiffusionDemoTrainer.Base));
        using var mixer = new PipelineMixer(baseModel, j, l);
        var groups = mixer.Groups;
        mixer.Linear(0.5);
        Add("average", FewSteps, Timed(() => Score(mixer.Target, test, FewSteps), out double s5), s5);
        var ones = Enumerable.Repeat(1.0, groups.Count).ToArray();
        mixer.Mix(ones, ones, 1, 0);
        Add(RecipeRow, FewSteps, Timed(() => Score(mixer.Target, test, FewSteps), out double s6), s6);

        int population = o.Quick ? 4 : 8, generations = o.Quick ? 2 : 12;
        foreach (var (name, mergeText) in new[] { ("evolved-ps", true), ("evolved-ps-te-j", false) })
        {
            var t = Stopwatch.StartNew();
            int dimension = 2 * groups.Count + (mergeText ? 1 : 0);
            // Genes in [0, 1] are scales in [0, MaxScale]; CMA-ES starts at 0.5 everywhere, i.e. at the recipe J + ΔL.
            var cma = new CmaEs(dimension, new OptimizerOptions(Seed: o.Seed, PopulationSize: population));
            double[] best = Enumerable.Repeat(0.5, dimension).ToArray();
            double bestDev = double.NegativeInfinity;
            int evaluations = 0;
            double[] Scales(double[] g, int from) => g.Skip(from).Take(groups.Count).Select(x => MaxScale * x).ToArray();
            void Apply(double[] g) => mixer.Mix(Scales(g, 0), Scales(g, groups.Count), mergeText ? MaxScale * g[^1] : 1, 0);
            for (int gen = 0; gen < generations && !cma.IsConverged; gen++)
            {
                var genomes = cma.Ask();
                var fitness = new double[genomes.Count];
                for (int i = 0; i < genomes.Count; i++)
                {
                    Apply(genomes[i]);
                    var s = Score(mixer.Target, dev, FewSteps);
                    s.Images.Dispose();
                    double f = s.Fidelity.Average();
                    fitness[i] = -f;
                    evaluations++;
                    if (f > bestDev) (bestDev, best) = (f, genomes[i].ToArray());
                }
                cma.Tell(fitness);
                progress?.Report($"{name}: generation {gen + 1}/{generations}, best dev fidelity {bestDev:F3}");
            }
            Apply(best);
            var weights = groups.Select((g, i) => ($"{g} ΔJ", MaxScale * best[i]))
                .Concat(groups.Select((g, i) => ($"{g} ΔL", MaxScale * best[groups.Count + i])))
                .Concat(mergeText ? [("text_encoder ΔJ", MaxScale * best[^1])] : [])
                .ToDictionary(x => x.Item1, x => Math.Round(x.Item2, 3));
            var scored = Score(mixer.Target, test, FewSteps);
            Add(name, FewSteps, scored, t.Elapsed.TotalSeconds, evaluations, bestDev, weights);
        }

        var differences = new List<FidelityDifference>();
        foreach (var row in new[] { "evolved-ps-te-j", "evolved-ps" })
            foreach (var minus in new[] { "J@4", "L@4", "J@50", RecipeRow })
            {
                var d = PairedBootstrap.Difference(rows.First(r => r.Name == row).PerPrompt!, rows.First(r => r.Name == minus).PerPrompt!, seed: o.Seed);
                differences.Add(new FidelityDifference(row, minus, d.Difference, d.Lower, d.Upper));
            }

        Directory.CreateDirectory(o.OutputFolder);
        var realImages = PictureData.Images(test.Select(e => e.Picture).ToList(), new Random(PictureWorld.SplitSeed));
        string report = DiffusionReport.Write(Path.Combine(o.OutputFolder, "report"), rows, grids, realImages, test);
        double realFidelity = judge.Fidelity(realImages, test.Select(e => e.Picture).ToList()).Average();
        var summary = new DiffusionSummary(rows, differences, test.Select(e => e.Picture.Japanese).ToList(), o.Seed, o.Quick,
            Math.Round(clock.Elapsed.TotalSeconds, 1), report, realFidelity);
        string path = Path.Combine(o.OutputFolder, DiffusionSummary.FileName), temp = path + ".partial";
        File.WriteAllText(temp, summary.ToJson());
        File.Move(temp, path, overwrite: true);
        foreach (var (_, images) in grids) images.Dispose();
        realImages.Dispose();
        return summary;
    }

    static Tensor RealFeatures(PictureJudge judge, int count)
    {
        var rng = new Random(PictureWorld.SplitSeed + 1);
        using var images = PictureData.Images(Enumerable.Range(0, count).Select(_ => PictureWorld.Random(rng)).ToList(), rng);
        using var _ = no_grad();
        return judge.Features(images);
    }
}
