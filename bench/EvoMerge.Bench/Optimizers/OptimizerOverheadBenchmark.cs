using System.Diagnostics;
using EvoMerge.Evolution.Optimizers;

namespace EvoMerge.Bench.Optimizers;

/// <summary>
/// What the optimiser itself costs per generation (Ask + Tell on a cheap sphere), full CMA-ES vs sep-CMA-ES vs
/// NSGA-II vs random search, for genome lengths from the paper's 6-parameter PS setting to per-layer genomes of
/// several large models. An evolution generation costs λ model evaluations (seconds each), so the optimiser is
/// negligible as long as this stays in milliseconds. The floor printed next to full CMA-ES is the time to
/// stream the n×n covariance matrix through memory once per candidate (λ·n²·8 bytes at the memory-copy
/// bandwidth measured in the same run): sampling and the rank-μ update each touch C about that often.
/// Usage: <c>optimizers [dimensions=6,60,200,600] [seconds per case=1]</c>.
/// </summary>
sealed class OptimizerOverheadBenchmark : IBenchmark
{
    public string Name => "optimizers";
    public string Description => "optimiser overhead per generation (Ask+Tell) vs genome length: CMA-ES, sep-CMA-ES, NSGA-II, random";

    public void Run(string[] args)
    {
        int[] dimensions = args.Length > 0 ? args[0].Split(',').Select(int.Parse).ToArray() : [6, 60, 200, 600];
        double seconds = args.Length > 1 ? double.Parse(args[1]) : 1;
        double copyGBs = CopyBandwidth();
        Console.WriteLine($"memory copy: {copyGBs:F1} GB/s (1 thread); each case runs ≥ {seconds} s after one warm-up generation");
        Console.WriteLine($"{"n",6} {"optimiser",-18} {"λ",5} {"ms/generation",14} {"µs/candidate",13} {"floor ms",9}");
        foreach (int n in dimensions)
        {
            foreach (var (name, create) in Cases(n))
            {
                var (msPerGeneration, lambda) = Measure(create, seconds);
                string floor = name == "cma-es"
                    ? $"{lambda * (double)n * n * 8 / (copyGBs * 1e9) * 1e3,9:F3}"
                    : $"{"",9}";
                Console.WriteLine($"{n,6} {name,-18} {lambda,5} {msPerGeneration,14:F3} {msPerGeneration * 1e3 / lambda,13:F1} {floor}");
            }
        }
    }

    static IEnumerable<(string, Func<Generation>)> Cases(int n)
    {
        var options = new OptimizerOptions(Seed: 1);
        yield return ("cma-es", () => Single(new CmaEs(n, options)));
        yield return ("cma-es-diagonal", () => Single(new CmaEs(n, options, diagonal: true)));
        yield return ("random", () => Single(new RandomSearch(n, options)));
        yield return ("nsga-ii (2 obj.)", () => Multi(new Nsga2(n, 2, options)));
    }

    delegate int Generation();

    static Generation Single(IOptimizer optimizer) => () =>
    {
        var candidates = optimizer.Ask();
        optimizer.Tell(candidates.Select(x => x.Sum(v => (v - 0.3) * (v - 0.3))).ToArray());
        return candidates.Count;
    };

    static Generation Multi(IMultiObjectiveOptimizer optimizer) => () =>
    {
        var candidates = optimizer.Ask();
        optimizer.Tell(candidates.Select(x => new[] { x[0], x.Sum(v => (v - 0.3) * (v - 0.3)) }).ToArray());
        return candidates.Count;
    };

    static (double MsPerGeneration, int Lambda) Measure(Func<Generation> create, double seconds)
    {
        var step = create();
        int lambda = step();   // warm-up (JIT, first eigen decomposition)
        int generations = 0;
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed.TotalSeconds < seconds) { step(); generations++; }
        return (sw.Elapsed.TotalMilliseconds / generations, lambda);
    }

    static double CopyBandwidth()
    {
        var source = new byte[256 << 20];
        var destination = new byte[256 << 20];
        source.AsSpan().Fill(1);
        destination.AsSpan().Fill(2);
        double best = 0;
        for (int pass = 0; pass < 5; pass++)
        {
            var sw = Stopwatch.StartNew();
            source.AsSpan().CopyTo(destination);
            best = Math.Max(best, source.Length / sw.Elapsed.TotalSeconds / 1e9);
        }
        return best;
    }
}
