namespace EvoMerge.Lora;

/// <summary>
/// One module's low-rank difference: fine-tune − base ≈ <see cref="B"/> · <see cref="A"/> (scaling 1), with
/// B = U·√S (rows × rank) and A = √S·Vᵀ (rank × cols), both row-major, splitting the singular values evenly so that
/// neither factor's range is extreme in half precision.
/// </summary>
public sealed record LoraModule(string Name, int Rows, int Cols, int Rank, float[] A, float[] B,
    double DeltaNorm, double RelativeError, double? OptimalRelativeError)
{
    /// <summary>The tensor name of the module's weight in the model ("…q_proj.weight").</summary>
    public string WeightName => Name + ".weight";
}

/// <summary>What <see cref="LoraExtractor"/> found: the factored modules, the tensors kept whole, and what it could not carry.</summary>
public sealed class LoraAdapter
{
    public required IReadOnlyList<LoraModule> Modules { get; init; }

    /// <summary>Tensor names of the fine-tune stored whole (PEFT's modules_to_save).</summary>
    public required IReadOnlyList<string> SavedTensors { get; init; }

    /// <summary>The names given as modules_to_save that matched at least one module.</summary>
    public required IReadOnlyList<string> SaveModules { get; init; }

    /// <summary>Differences the adapter does not carry (norms, biases, embeddings not saved), one line each.</summary>
    public required IReadOnlyList<string> Warnings { get; init; }

    public required LoraExtractionOptions Options { get; init; }

    /// <summary>PEFT's target_modules: the last name component of every factored module ("q_proj", ...).</summary>
    public IReadOnlyList<string> TargetModules => Modules.Select(m => m.Name[(m.Name.LastIndexOf('.') + 1)..]).Distinct().Order(StringComparer.Ordinal).ToList();
}
