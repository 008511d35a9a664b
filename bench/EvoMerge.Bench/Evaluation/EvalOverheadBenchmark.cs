using System.Diagnostics;
using EvoMerge.Evaluation;
using EvoMerge.Evaluation.Answers;
using EvoMerge.Evaluation.Data;
using EvoMerge.Evaluation.Tasks;

namespace EvoMerge.Bench.Evaluation;

/// <summary>
/// What the evaluation engine itself costs per item, apart from the model: MGSM-JA's 250 items scored against a
/// model that replays real Japanese chain-of-thought replies (the MGSM exemplar solutions) instantly. Side by side:
/// prompt rendering + number extraction (standard and Sakana parity), and the same plus the Lingua language gate,
/// and a seeded 200-of-1,069 minibatch draw. Evolution scores thousands of candidates × hundreds of items, so
/// this overhead must stay far below a model's generation time per item (milliseconds at the very least).
/// Usage: <c>eval-overhead [shared-data-folder=../shared/data] [passes=5]</c>.
/// </summary>
sealed class EvalOverheadBenchmark : IBenchmark
{
    public string Name => "eval-overhead";
    public string Description => "per-item cost of prompting, answer extraction and the language gate (model replaced by replayed replies)";

    public void Run(string[] args)
    {
        string data = args.Length > 0 ? args[0] : Path.Combine("..", "shared", "data");
        int passes = args.Length > 1 ? int.Parse(args[1]) : 5;
        var items = MgsmData.LoadTsv(Path.Combine(data, "mgsm", "mgsm_ja.tsv"));
        var replies = MgsmData.LoadExemplars(Path.Combine(data, "mgsm", "mgsm_exemplars_ja.jsonl")).Select(e => e.Solution).ToArray();
        var model = new ReplayModel(replies);
        var template = new PromptTemplate(PromptTemplate.SakanaJapaneseMath);

        var sw = Stopwatch.StartNew();
        var gate = new LanguageGate("ja");
        gate.Check(replies[0]); // Lingua loads its models lazily: time the first call with the build
        double gateStartup = sw.Elapsed.TotalMilliseconds;

        var cases = new (string Name, IEvalTask Task)[]
        {
            ("prompt + last number (standard)", new GenerationTask("mgsm", items, new NumberMatcher(), new GenerationSettings(template))),
            ("prompt + last number (Sakana parity)", new GenerationTask("mgsm", items, new NumberMatcher(NumberExtraction.SakanaParity), new GenerationSettings(template))),
            ("prompt + last number + language gate ja", new GenerationTask("mgsm", items, new NumberMatcher(), new GenerationSettings(template, LanguageGate: gate))),
        };
        Console.WriteLine($"MGSM-JA: {items.Count} items, replies {replies.Min(r => r.Length)}–{replies.Max(r => r.Length)} characters; " +
                          $"Lingua gate (ja, en, zh, ko) built and first call: {gateStartup:F0} ms; best of {passes} passes");
        Console.WriteLine($"{"workload",-44} {"µs/item",10} {"items/s",10}");
        foreach (var (name, task) in cases)
        {
            task.Evaluate(model); // warm-up (JIT, regex compilation)
            double best = Enumerable.Range(0, passes).Min(_ => Time(() => task.Evaluate(model, run: new EvalRunOptions(BatchSize: 16))));
            Console.WriteLine($"{name,-44} {best / items.Count * 1e6,10:F1} {items.Count / best,10:F0}");
        }
        double draw = Enumerable.Range(0, passes).Min(p => Time(() => Subset.Sample(200, p).Resolve(1069)));
        Console.WriteLine($"{"seeded minibatch 200 of 1,069 (per draw)",-44} {draw * 1e6,10:F1}");
    }

    static double Time(Action action)
    {
        var sw = Stopwatch.StartNew();
        action();
        return sw.Elapsed.TotalSeconds;
    }

    sealed class ReplayModel(string[] replies) : ILanguageModel
    {
        int _next;
        public IReadOnlyList<string> Generate(IReadOnlyList<string> prompts, GenerationOptions options) =>
            prompts.Select(_ => replies[_next++ % replies.Length]).ToArray();
        public IReadOnlyList<ContinuationScore> ScoreContinuations(IReadOnlyList<ContinuationRequest> requests) => throw new NotSupportedException();
    }
}
