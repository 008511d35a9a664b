using EvoMerge.Merge.Kernels;

namespace EvoMerge.Merge.Methods;

/// <summary>Every merge method by its mergekit name. Adding a method is one line here.</summary>
public static class MergeMethods
{
    public static IReadOnlyList<MergeMethod> All { get; } =
    [
        new LinearMethod(),
        new SlerpMethod(),
        new NuSlerpMethod(),
        new MultiSlerpMethod(),
        new KarcherMethod(),
        new TaskArithmeticFamily("task_arithmetic", "add weighted task vectors to the base",
            "https://arxiv.org/abs/2212.04089", SparsificationKind.None, consensus: false, defaultNormalize: false, defaultRescale: false),
        new TaskArithmeticFamily("ties", "trim task vectors by magnitude, elect signs, average agreeing entries",
            "https://arxiv.org/abs/2306.01708", SparsificationKind.Magnitude, consensus: true, defaultNormalize: true, defaultRescale: false),
        new TaskArithmeticFamily("dare_ties", "drop task-vector entries at random and rescale, then TIES sign consensus",
            "https://arxiv.org/abs/2311.03099", SparsificationKind.Random, consensus: true, defaultNormalize: false, defaultRescale: true),
        new TaskArithmeticFamily("dare_linear", "drop task-vector entries at random and rescale, then add",
            "https://arxiv.org/abs/2311.03099", SparsificationKind.Random, consensus: false, defaultNormalize: false, defaultRescale: true),
        new TaskArithmeticFamily("breadcrumbs", "drop the largest outliers and smallest entries of task vectors, then add",
            "https://arxiv.org/abs/2312.06795", SparsificationKind.MagnitudeOutliers, consensus: false, defaultNormalize: false, defaultRescale: false),
        new TaskArithmeticFamily("breadcrumbs_ties", "breadcrumbs sparsification with TIES sign consensus",
            "https://arxiv.org/abs/2312.06795", SparsificationKind.MagnitudeOutliers, consensus: true, defaultNormalize: false, defaultRescale: false),
        new TaskArithmeticFamily("della", "magnitude-ranked random dropping (MagPrune) with TIES sign consensus",
            "https://arxiv.org/abs/2406.11617", SparsificationKind.DellaMagprune, consensus: true, defaultNormalize: true, defaultRescale: true),
        new TaskArithmeticFamily("della_linear", "magnitude-ranked random dropping (MagPrune), then add",
            "https://arxiv.org/abs/2406.11617", SparsificationKind.DellaMagprune, consensus: false, defaultNormalize: false, defaultRescale: true),
        new SceMethod(),
        new ModelStockMethod(),
        new NearSwapMethod(),
        new ArceeFusionMethod(),
        new PassthroughMethod(),
    ];

    public static MergeMethod? Find(string name) => All.FirstOrDefault(m => m.Name == name);

    /// <summary>The method called <paramref name="name"/>, or an error that suggests the nearest valid name.</summary>
    public static MergeMethod Get(string name) =>
        Find(name) ?? throw new EvoMergeException(
            $"unknown merge method '{name}'{NearestName.Suggest(name, All.Select(m => m.Name))}; valid: {string.Join(", ", All.Select(m => m.Name))}");

    /// <summary>Every parameter name any method declares: a name outside this set is a typo, not a leftover.</summary>
    public static IReadOnlySet<string> AllParameterNames { get; } =
        All.SelectMany(m => m.GlobalParameters.Concat(m.ModelParameters)).Select(p => p.Name).ToHashSet();
}
