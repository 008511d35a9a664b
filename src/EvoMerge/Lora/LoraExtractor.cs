using System.Globalization;
using EvoMerge.Anatomy;
using EvoMerge.IO;
using EvoMerge.Lora.Linalg;
using EvoMerge.Merge;
using MathNet.Numerics.LinearAlgebra;

namespace EvoMerge.Lora;

/// <summary>
/// Extracts a LoRA adapter from a fine-tune and its base: every 2-D weight outside the embeddings becomes a
/// low-rank factorisation of its difference (<see cref="RandomizedSvd"/>), modules named in
/// <see cref="LoraExtractionOptions.SaveModules"/> are kept whole, and any other difference (norms, biases,
/// embeddings) is reported, since a LoRA cannot carry it. Modules are factored in parallel, one thread each,
/// so memory stays at a few copies of the weights in flight.
/// </summary>
public static class LoraExtractor
{
    public static LoraAdapter Extract(ModelFolder fineTune, ModelFolder baseModel, LoraExtractionOptions options)
    {
        if (options.Rank < 1) throw new EvoMergeException($"--rank: expected a whole number of at least 1, got {options.Rank}");
        if (options.SvEpsilon is { } eps && (!double.IsFinite(eps) || eps < 0 || eps >= 1))
            throw new EvoMergeException($"--sv-epsilon: expected a fraction of the largest singular value in [0, 1), got {eps.ToString(CultureInfo.InvariantCulture)}");
        if (options.Oversample < 0 || options.PowerIterations < 0)
            throw new EvoMergeException("oversampling and power iterations must not be negative");
        CheckSameTensors(fineTune, baseModel);

        var saveMatched = new HashSet<string>();
        var saved = new List<string>();
        var targets = new List<TensorInfo>();
        var warnings = new List<string>();
        var uncarried = new List<(string Tensor, string Module, double Difference)>();
        foreach (var t in fineTune.Weights.Tensors)
        {
            string module = ModuleOf(t.Name);
            var save = options.SaveModules.FirstOrDefault(s => module == s || module.EndsWith("." + s, StringComparison.Ordinal));
            if (save != null) { saveMatched.Add(save); saved.Add(t.Name); continue; }
            var baseInfo = baseModel.Weights.GetInfo(t.Name);
            bool factorable = t.Shape.Length == 2 && t.Name.EndsWith(".weight", StringComparison.Ordinal)
                && fineTune.Anatomy.Place(t.Name).Role != TensorRole.Embedding;
            if (!t.Shape.AsSpan().SequenceEqual(baseInfo.Shape))
                throw new EvoMergeException($"{fineTune.Path}: tensor '{t.Name}' has shape {t.ShapeText} but the base's is {baseInfo.ShapeText} " +
                    $"(a resized vocabulary?); keep it whole with --save-module {LastComponent(module)}");
            if (factorable) targets.Add(t);
            else if (RelativeDifference(fineTune, baseModel, t) is var d and > 0) uncarried.Add((t.Name, LastComponent(module), d));
        }
        // One line per module name (input_layernorm of every layer is one line, not one per layer).
        foreach (var group in uncarried.GroupBy(u => u.Module))
            warnings.Add(group.Count() == 1
                ? FormattableString.Invariant($"{group.First().Tensor} differs from the base (relative difference {group.First().Difference:0.###e+0}) and a LoRA cannot carry it; keep it with --save-module {group.Key}")
                : FormattableString.Invariant($"{group.Count()} tensors named {group.Key} (e.g. {group.First().Tensor}) differ from the base (relative difference up to {group.Max(u => u.Difference):0.###e+0}) and a LoRA cannot carry them; keep them with --save-module {group.Key}"));
        foreach (var s in options.SaveModules.Where(s => !saveMatched.Contains(s)))
            throw new EvoMergeException($"--save-module {s}: no module of {fineTune.Path} is named so{NearestName.Suggest(s, fineTune.Weights.Tensors.Select(t => LastComponent(ModuleOf(t.Name))).Distinct())}");
        if (targets.Count == 0) throw new EvoMergeException($"{fineTune.Path}: no 2-D weights to factor (every tensor is an embedding, a norm or saved whole)");

        // Modules in parallel, each on one thread: the products would share cores well within a module, but its QRs
        // and bookkeeping would not, and the modules are independent (each sketch is seeded by its tensor's name).
        long totalElements = targets.Sum(t => t.ElementCount), done = 0;
        int finished = 0;
        var modules = new LoraModule[targets.Count];
        var progressLock = new object();
        var perModule = options with { Threads = 1 };
        try
        {
            Parallel.For(0, targets.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Threads), CancellationToken = options.Cancellation }, i =>
            {
                modules[i] = Factor(fineTune, baseModel, targets[i], perModule);
                lock (progressLock)
                {
                    done += targets[i].ElementCount;
                    options.Progress?.Report(new LoraProgress(++finished, targets.Count, done, totalElements, ModuleOf(targets[i].Name)));
                }
            });
        }
        catch (AggregateException e) when (e.InnerExceptions.FirstOrDefault(x => x is EvoMergeException) is { } first)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
        }
        return new LoraAdapter { Modules = modules, SavedTensors = saved, SaveModules = options.SaveModules.Where(saveMatched.Contains).ToList(), Warnings = warnings, Options = options };
    }

    static string ModuleOf(string tensor)
    {
        int dot = tensor.LastIndexOf('.');
        return dot < 0 ? tensor : tensor[..dot];
    }

    static string LastComponent(string module) => module[(module.LastIndexOf('.') + 1)..];

    static void CheckSameTensors(ModelFolder fineTune, ModelFolder baseModel)
    {
        var missing = fineTune.Weights.Tensors.Where(t => !baseModel.Weights.Contains(t.Name)).Select(t => t.Name).ToList();
        if (missing.Count > 0)
            throw new EvoMergeException($"{baseModel.Path}: the base has no tensor '{missing[0]}' of the fine-tune ({missing.Count} missing in all); is it the fine-tune's base?");
        var extra = baseModel.Weights.Tensors.Where(t => !fineTune.Weights.Contains(t.Name)).Select(t => t.Name).ToList();
        if (extra.Count > 0)
            throw new EvoMergeException($"{fineTune.Path}: the fine-tune has no tensor '{extra[0]}' of the base ({extra.Count} missing in all); is it a fine-tune of that base?");
        foreach (var t in fineTune.Weights.Tensors.Where(t => !t.DType.IsFloat()))
            throw new EvoMergeException($"{fineTune.Path}: tensor '{t.Name}' is {t.DType}, not a float type; LoRA extraction needs float weights");
    }

    static (float[] Delta, double Norm) Difference(ModelFolder fineTune, ModelFolder baseModel, TensorInfo t)
    {
        if (t.ElementCount > Array.MaxLength)
            throw new EvoMergeException($"{fineTune.Path}: tensor '{t.Name}' has {t.ElementCount} elements, more than one array holds ({Array.MaxLength}); extraction handles a module at a time in memory");
        var delta = new float[t.ElementCount];
        var baseValues = new float[t.ElementCount];
        fineTune.Weights.ReadFloat32(t.Name, delta);
        baseModel.Weights.ReadFloat32(t.Name, baseValues);
        VectorOps.Subtract(delta, baseValues);
        double norm = FrobeniusNorm(delta);
        if (!double.IsFinite(norm)) // NaN or infinity in either model: an SVD of it means nothing
            throw new EvoMergeException($"tensor '{t.Name}': the difference has non-finite values (NaN or infinity in {fineTune.Path} or {baseModel.Path})");
        return (delta, norm);
    }

    static double FrobeniusNorm(float[] x) => Math.Sqrt(VectorOps.SumOfSquares(x));

    static double RelativeDifference(ModelFolder fineTune, ModelFolder baseModel, TensorInfo t)
    {
        var (delta, norm) = Difference(fineTune, baseModel, t);
        if (norm == 0) return 0;
        var values = new float[delta.Length];
        baseModel.Weights.ReadFloat32(t.Name, values);
        double baseNorm = FrobeniusNorm(values);
        return baseNorm == 0 ? double.PositiveInfinity : norm / baseNorm;
    }

    static LoraModule Factor(ModelFolder fineTune, ModelFolder baseModel, TensorInfo t, LoraExtractionOptions options)
    {
        int rows = (int)t.Shape[0], cols = (int)t.Shape[1];
        string module = ModuleOf(t.Name);
        var (delta, norm) = Difference(fineTune, baseModel, t);
        int maxRank = Math.Min(options.Rank, Math.Min(rows, cols));
        if (norm == 0) // unchanged: PEFT needs a rank of at least 1, and zero factors add nothing
            return new LoraModule(module, rows, cols, 1, new float[cols], new float[rows], 0, 0, 0);

        double[]? exact = Math.Min(rows, cols) <= options.FullSvdMaxSide
            ? Matrix<double>.Build.Dense(rows, cols, (i, j) => delta[(long)i * cols + j]).Svd(computeVectors: false).S.ToArray()
            : null;
        var svd = RandomizedSvd.Compute(delta, rows, cols, maxRank + options.Oversample, options.PowerIterations,
            options.Seed ^ StableHash(t.Name), options.Threads);
        int rank = maxRank;
        if (options.SvEpsilon is { } eps)
            rank = Math.Max(1, svd.S.Take(maxRank).Count(s => s > eps * svd.S[0]));

        var b = new float[(long)rows * rank];
        var a = new float[(long)rank * cols];
        for (int j = 0; j < rank; j++)
        {
            float root = (float)Math.Sqrt(svd.S[j]);
            for (int r = 0; r < rows; r++) b[(long)r * rank + j] = svd.U[(long)r * svd.Count + j] * root;
            for (int c = 0; c < cols; c++) a[(long)j * cols + c] = svd.V[(long)c * svd.Count + j] * root;
        }
        // The achieved error, measured: delta − B·A, in place (the difference is not needed any more).
        var negB = new float[b.Length];
        for (int i = 0; i < b.Length; i++) negB[i] = -b[i];
        MatrixProduct.MultiplyAdd(negB, rows, rank, rank, 1, a, cols, delta, options.Threads);
        double error = FrobeniusNorm(delta) / norm;
        double? optimal = exact == null ? null : Math.Sqrt(exact.Skip(rank).Sum(s => s * s) / exact.Sum(s => s * s));
        return new LoraModule(module, rows, cols, rank, a, b, norm, error, optimal);
    }

    /// <summary>FNV-1a of the tensor name: a per-module sketch seed that is the same in every process (string.GetHashCode is not).</summary>
    static ulong StableHash(string name)
    {
        ulong h = 14695981039346656037UL;
        foreach (char ch in name) { h ^= ch; h *= 1099511628211UL; }
        return h;
    }
}
