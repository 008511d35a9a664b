using EvoMerge.IO;

namespace EvoMerge.Lora;

/// <summary>How <see cref="LoraExtractor"/> factors a fine-tune's difference from its base.</summary>
public sealed record LoraExtractionOptions
{
    /// <summary>The adapter's rank (with <see cref="SvEpsilon"/>: the largest rank any module gets).</summary>
    public required int Rank { get; init; }

    /// <summary>Extra sketch columns beyond the rank (Halko et al. recommend 5–10).</summary>
    public int Oversample { get; init; } = 10;

    /// <summary>Power iterations of the randomised SVD; each sharpens a slowly decaying spectrum.</summary>
    public int PowerIterations { get; init; } = 2;

    /// <summary>
    /// When set, each module keeps only the singular values above this fraction of its largest one (at most
    /// <see cref="Rank"/>, at least 1), so modules that changed little get small ranks.
    /// </summary>
    public double? SvEpsilon { get; init; }

    /// <summary>
    /// Module names (PEFT's <c>modules_to_save</c>, e.g. <c>embed_tokens</c>, <c>lm_head</c>, <c>norm</c>) whose
    /// tensors are stored whole from the fine-tune instead of as a low-rank difference. A name matches a module
    /// whose dotted path ends with it.
    /// </summary>
    public IReadOnlyList<string> SaveModules { get; init; } = [];

    /// <summary>The adapter's dtype; null keeps the fine-tune's.</summary>
    public DType? OutDType { get; init; }

    /// <summary>Seed of the random sketches: the same seed gives the same adapter.</summary>
    public ulong Seed { get; init; }

    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// Modules whose smaller side is at most this also get a full SVD (MathNet, float64, seconds for a 256 × 2048
    /// module), so the report shows the best possible error beside the achieved one.
    /// </summary>
    public int FullSvdMaxSide { get; init; } = 128;

    public IProgress<LoraProgress>? Progress { get; init; }

    public CancellationToken Cancellation { get; init; }
}

/// <summary>Modules factored so far (of all), and the one just finished.</summary>
public readonly record struct LoraProgress(int ModulesDone, int ModulesTotal, long ElementsDone, long ElementsTotal, string Module);
