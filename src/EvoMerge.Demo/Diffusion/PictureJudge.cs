using EvoMerge.Torch.Diffusion.Pipeline;
using EvoMerge.Torch.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EvoMerge.Demo.Diffusion;

/// <summary>
/// The judge of the diffusion demo, a stand-in for CLIP score and FID (Sakana never published EvoSDXL-JP's fitness):
/// a small CNN trained on the world's real pictures to tell kind, colour and count. <see cref="Fidelity"/> is the
/// probability it gives to exactly what the prompt says (kind × colour × count); <see cref="Features"/> (its pooled
/// 64-dimensional activations) feed the Fréchet distance of <see cref="FrechetDistance"/>.
/// </summary>
public sealed class PictureJudge : nn.Module
{
    public const string FileName = "model.safetensors";

    readonly Conv2d conv1, conv2, conv3;
    readonly Linear kind, colour, count;

    public PictureJudge() : base(nameof(PictureJudge))
    {
        conv1 = nn.Conv2d(3, 16, 3, padding: 1);
        conv2 = nn.Conv2d(16, 32, 3, stride: 2, padding: 1);
        conv3 = nn.Conv2d(32, 64, 3, stride: 2, padding: 1);
        kind = nn.Linear(64, PictureWorld.KindCount);
        colour = nn.Linear(64, PictureWorld.ColourCount);
        count = nn.Linear(64, PictureWorld.MaxCount);
        RegisterComponents();
        eval();
    }

    /// <summary>[images, 64] pooled features of images in [−1, 1].</summary>
    public Tensor Features(Tensor images)
    {
        using var scope = NewDisposeScope();
        var h = nn.functional.relu(conv1.forward(images));
        h = nn.functional.relu(conv2.forward(h));
        h = nn.functional.relu(conv3.forward(h));
        return h.mean([2, 3]).MoveToOuterDisposeScope();
    }

    (Tensor Kind, Tensor Colour, Tensor Count) LogProbabilities(Tensor images)
    {
        var f = Features(images);
        return (nn.functional.log_softmax(kind.forward(f), 1), nn.functional.log_softmax(colour.forward(f), 1), nn.functional.log_softmax(count.forward(f), 1));
    }

    /// <summary>Per image, the probability that it shows what its picture's caption says.</summary>
    public double[] Fidelity(Tensor images, IReadOnlyList<Picture> pictures)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var (k, c, n) = LogProbabilities(images);
        var result = new double[pictures.Count];
        for (int i = 0; i < pictures.Count; i++)
        {
            var p = pictures[i];
            result[i] = Math.Exp(k[i, p.Kind].item<float>() + c[i, p.Colour].item<float>() + n[i, p.Count - 1].item<float>());
        }
        return result;
    }

    /// <summary>
    /// The Fréchet distance between Gaussians fitted to two sets of features (FID's formula):
    /// ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^½), with Tr((Σ₁Σ₂)^½) = Σ √λ of √Σ₁·Σ₂·√Σ₁ (symmetric, so its eigenvalues are real). Float64.
    /// </summary>
    public static double FrechetDistance(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        var x = a.to_type(ScalarType.Float64);
        var y = b.to_type(ScalarType.Float64);
        var (mx, my) = (x.mean([0]), y.mean([0]));
        var cx = Covariance(x, mx);
        var cy = Covariance(y, my);
        var (values, vectors) = linalg.eigh(cx);
        var root = vectors.matmul(diag(values.clamp_min(0).sqrt())).matmul(vectors.T);
        var middle = root.matmul(cy).matmul(root);
        var traceRoot = linalg.eigvalsh((middle + middle.T) / 2).clamp_min(0).sqrt().sum();
        return ((mx - my).square().sum() + cx.trace() + cy.trace() - 2 * traceRoot).item<double>();
    }

    static Tensor Covariance(Tensor x, Tensor mean)
    {
        var centred = x - mean;
        return centred.T.matmul(centred) / (x.shape[0] - 1);
    }

    /// <summary>
    /// Trains on fresh clean real pictures. No noise augmentation: a judge trained with even light Gaussian noise
    /// (σ up to 0.05) read the grainy pictures of a 4-step sampler as well as clean 50-step ones (fidelity 0.42 vs
    /// 0.44 on world 0), blind to the very defect few-step distillation removes; CLIP score and FID are not.
    /// </summary>
    public void Train(int seed, TrainingOptions options, IProgress<TrainingStep>? progress = null)
    {
        var rng = new Random(seed);
        var parameters = this.parameters().ToList();
        using var optimizer = optim.AdamW(parameters, lr: options.LearningRate, weight_decay: options.WeightDecay);
        train();
        for (int step = 0; step < options.Steps; step++)
        {
            double lr = LearningRateSchedule.At(step, options);
            foreach (var g in optimizer.ParamGroups) g.LearningRate = lr;
            using var scope = NewDisposeScope();
            var pictures = Enumerable.Range(0, 64).Select(_ => PictureWorld.Random(rng)).ToList();
            var images = PictureData.Images(pictures, rng);
            var (k, c, n) = LogProbabilities(images);
            var loss = nn.functional.nll_loss(k, tensor(pictures.Select(p => (long)p.Kind).ToArray()))
                + nn.functional.nll_loss(c, tensor(pictures.Select(p => (long)p.Colour).ToArray()))
                + nn.functional.nll_loss(n, tensor(pictures.Select(p => (long)p.Count - 1).ToArray()));
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            progress?.Report(new TrainingStep(step + 1, options.Steps, loss.item<float>(), lr));
        }
        eval();
    }

    public void Save(string folder) => ModuleWeights.Save(this, folder, FileName);

    public static PictureJudge Load(string folder)
    {
        var judge = new PictureJudge();
        ModuleWeights.Load(judge, Path.Combine(folder, FileName));
        return judge;
    }
}
