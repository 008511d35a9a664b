using System.Diagnostics;
using System.Text.Json.Nodes;
using EvoMerge.Cli;
using EvoMerge.Evolution.Run;
using EvoMerge.TestSupport;
using EvoMerge.Torch.Tests.Evolution;

namespace EvoMerge.Torch.Tests.Dashboard;

/// <summary>
/// A runs folder made by real tiny <c>evomerge evolve</c> runs on the stories260K experts, as the dashboard serves it:
/// <c>finished</c> (ps+dfs, two fitness tasks, test table), <c>pareto</c> (NSGA-II on two tasks), <c>killed</c> (a copy
/// of finished cut mid-line, no summary), <c>bad-config</c> (a copy of pareto with a broken config.json), and
/// <c>cluster</c> (a copy of pareto with the workers' status a cluster driver writes, <see cref="WriteWorkers"/>),
/// <c>bad-workers</c> (a copy of pareto with a broken workers.json) and <c>live</c>, which <see cref="StartLive"/>
/// fills with an evolve process running beside the tests.
/// </summary>
public sealed class DashboardRuns : IDisposable
{
    static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "EvoMerge.Cli.dll");
    readonly StoriesExperts _experts = new();
    Process? _live;

    public string Root => Path.Combine(_experts.Root, "runs");
    public string Finished => Path.Combine(Root, "finished");
    public string Pareto => Path.Combine(Root, "pareto");
    public string Killed => Path.Combine(Root, "killed");
    public string BadConfig => Path.Combine(Root, "bad-config");
    public string Live => Path.Combine(Root, "live");
    public string Cluster => Path.Combine(Root, "cluster");
    string Configs => Path.Combine(_experts.Root, "configs");

    public DashboardRuns()
    {
        if (!SharedData.Has(StoriesExperts.Checkpoint)) return;   // the facts using this skip
        Directory.CreateDirectory(Configs);
        File.WriteAllText(Path.Combine(Configs, "story.txt"), "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.\n");
        File.WriteAllText(Path.Combine(Configs, "dog.txt"), "The dog ran to the big tree. He was happy and wagged his tail at the boy.\n");
        Evolve("finished", "space: ps+dfs", "ps: { method: dare_ties, parameters: [weight, density], layer_groups: 2 }",
            "dfs: { repeats: 1, max_path_length: 6 }", "optimizer: { population: 4, generations: 3 }",
            "test:", "  - { task: perplexity, data: story.txt }");
        Evolve("pareto", "ps: { method: task_arithmetic, parameters: [weight], layer_groups: 2 }", "optimizer: { name: nsga-ii, population: 6, generations: 3 }");

        CopyFolder(Finished, Killed);
        File.Delete(Path.Combine(Killed, "summary.json"));
        string journal = Path.Combine(Killed, "journal.jsonl");
        var lines = File.ReadAllLines(journal).Where(l => !l.Contains("\"kind\":\"test\"")).ToList();
        // A kill during a write: every line but the last whole, the last one cut in the middle.
        File.WriteAllText(journal, string.Join("", lines.SkipLast(1).Select(l => l + "\n")) + lines[^1][..(lines[^1].Length / 2)]);

        CopyFolder(Pareto, BadConfig);
        File.WriteAllText(Path.Combine(BadConfig, "config.json"), "{ \"name\": \"bad\", \"models\": [1, 2");

        CopyFolder(Pareto, Cluster);
        WriteWorkers(Workers(results: 5));
        CopyFolder(Pareto, Path.Combine(Root, "bad-workers"));
        File.WriteAllText(Path.Combine(Root, "bad-workers", "workers.json"), "{ \"time\": \"2026-12-03T12:00:00Z\", \"workers\": [ { \"name\": \"w");
    }

    /// <summary>
    /// The status of a cluster run with two workers: gpu-0 (2 slots) scoring two work items, having delivered
    /// <paramref name="results"/>, seen 1.5 s before the update; gpu-1 dead, seen last 40 s before it.
    /// </summary>
    public static ClusterStatus Workers(int results, string gpu0State = "busy") => new(new DateTime(2026, 12, 3, 12, 0, 0, DateTimeKind.Utc),
    [
        new WorkerStatus("gpu-0", "10.0.0.7:11111@1", 2, gpu0State, results, results / 2.0, 0.05, 90, 120,
            gpu0State == "busy" ? ["0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"] : [],
            new DateTime(2026, 12, 3, 11, 59, 58, 500, DateTimeKind.Utc)),
        new WorkerStatus("gpu-1", "10.0.0.8:11111@1", 1, "dead", 3, 3, 0.0375, 70, 80, [], new DateTime(2026, 12, 3, 11, 59, 20, DateTimeKind.Utc)),
    ], Pending: 4, Running: 2, Message: "worker gpu-1 died; its work goes to the others");

    /// <summary>Writes the cluster run's workers.json as the driver does (through the same writer).</summary>
    public void WriteWorkers(ClusterStatus status)
    {
        using var file = new ClusterStatusFile(new RunFolder(Cluster));
        file.Report(status);
    }

    /// <summary>Starts a long PS run in its own process (killed on dispose); returns once its first line is journaled.</summary>
    public void StartLive()
    {
        if (_live is not null) return;
        string config = Config("live", "ps: { method: task_arithmetic, parameters: [weight], layer_groups: 2 }", "optimizer: { population: 4, generations: 100000 }");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])[Cli, "evolve", config, "--run-dir", Live, "--threads", "1", "--dtype", "f32"]) psi.ArgumentList.Add(a);
        _live = Process.Start(psi)!;
        _live.OutputDataReceived += (_, _) => { };
        _live.ErrorDataReceived += (_, _) => { };
        _live.BeginOutputReadLine();
        _live.BeginErrorReadLine();
        var watch = Stopwatch.StartNew();
        while (CompleteLines(Path.Combine(Live, "journal.jsonl")).Count == 0)
        {
            if (_live.HasExited) throw new InvalidOperationException($"the live evolve exited with {_live.ExitCode}");
            if (watch.Elapsed > TimeSpan.FromMinutes(2)) throw new TimeoutException("the live evolve wrote no journal line in 2 minutes");
            Thread.Sleep(20);
        }
    }

    /// <summary>The journal's complete lines, parsed independently of the product's reader (shared read, as a viewer).</summary>
    public static List<JsonObject> CompleteLines(string journal)
    {
        if (!File.Exists(journal)) return [];
        using var stream = new FileStream(journal, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        string text = new StreamReader(stream).ReadToEnd();
        return text[..(text.LastIndexOf('\n') + 1)].Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
    }

    void Evolve(string name, params string[] settings)
    {
        string config = Config(name, settings);
        Assert.Equal(0, CliApp.Run(["evolve", config, "--run-dir", Path.Combine(Root, name), "--threads", "1", "--dtype", "f32"]));
    }

    string Config(string name, params string[] settings)
    {
        string file = Path.Combine(Configs, name + ".yml");
        File.WriteAllText(file, string.Join("\n", [
            $"name: {name}", "seed: 5", $"base_model: {_experts.Base}", $"models: [{_experts.A}, {_experts.B}]",
            "fitness:", "  - { task: perplexity, data: story.txt }", "  - { task: perplexity, data: dog.txt }", .. settings]) + "\n");
        return file;
    }

    static void CopyFolder(string from, string to)
    {
        foreach (var dir in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
    }

    public void Dispose()
    {
        if (_live is { HasExited: false }) { _live.Kill(); _live.WaitForExit(); }
        _live?.Dispose();
        _experts.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class DashboardCollection : ICollectionFixture<DashboardRuns>
{
    public const string Name = "dashboard runs";
}
