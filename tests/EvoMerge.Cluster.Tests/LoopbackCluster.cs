using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using EvoMerge.Demo;
using EvoMerge.Evolution.Run;

namespace EvoMerge.Cluster.Tests;

/// <summary>
/// Real processes on loopback: a Redis started for the tests (Debian's redis-server), <c>evomerge worker</c> and
/// <c>evomerge evolve</c> processes, and an evolution config over the repository's tiny demo models, whose
/// single-process journal is computed once as the reference.
/// </summary>
public sealed class LoopbackCluster : IDisposable
{
    static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "EvoMerge.Cli.dll");
    readonly Process? _redis;
    readonly List<Process> _processes = [];

    public string Root { get; } = Directory.CreateTempSubdirectory("evo-loopback-").FullName;
    public string Config { get; }
    public static string? RedisServer { get; } = new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists);
    public int RedisPort { get; }
    string? _single;

    public LoopbackCluster()
    {
        Config = WriteConfig();
        if (RedisServer is not { } server) return;
        RedisPort = FreePort();
        _redis = Start(server, "--port", RedisPort.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no");
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!Answers(RedisPort))
        {
            if (DateTime.UtcNow > deadline || _redis.HasExited) throw new InvalidOperationException($"redis-server did not start on port {RedisPort}");
            Thread.Sleep(50);
        }
    }

    public string Spec => $"redis://127.0.0.1:{RedisPort}";

    /// <summary>The journal of the same config evolved in one process (computed on first use).</summary>
    public IReadOnlyList<string> SingleProcessJournal()
    {
        if (_single is null)
        {
            string run = Path.Combine(Root, "single");
            using var p = Evolve(run);
            Finish(p, "single-process evolve");
            _single = run;
        }
        return Untimed(_single);
    }

    public Process Worker(string clusterId, string name, string? spec = null, params string[] extra) => Start("dotnet", [Cli, "worker", "--cluster", spec ?? Spec,
        "--cluster-id", clusterId, "--name", name, "--threads", "1", "--dtype", "f32", "--advertise", "127.0.0.1", .. extra]);

    /// <summary>Waits for a worker's "joined" line (on localhost the next worker must find the primary's ports taken).</summary>
    public void Joined(Process worker)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (!Log(worker).Contains("joined"))
        {
            if (worker.HasExited || DateTime.UtcNow > deadline) throw new InvalidOperationException($"the worker did not join:\n{Log(worker)}");
            Thread.Sleep(20);
        }
    }

    public Process Evolve(string runDir, params string[] extra) => EvolveWith(Config, runDir, extra);

    public Process EvolveWith(string config, string runDir, params string[] extra) =>
        Start("dotnet", [Cli, "evolve", config, "--run-dir", runDir, "--threads", "1", "--dtype", "f32", .. extra]);

    /// <summary>
    /// The same models and items searched by M2N2 (steady state) with one child in flight: deterministic, so a
    /// cluster run must journal what one process does.
    /// </summary>
    public string WriteM2n2Config()
    {
        string config = Path.Combine(Root, "m2n2.yml");
        File.WriteAllText(config, File.ReadAllText(Config)
            .Replace("name: loopback", "name: loopback-m2n2")
            .Replace("base_model: ", "# base_model: ")
            .Replace("ps: {", "# ps: {")
            .Replace("optimizer: { population: 6, generations: 4 }", "optimizer: { name: m2n2, max_evaluations: 7, archive_size: 4, in_flight: 1 }"));
        return config;
    }

    Process Start(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        var log = new System.Text.StringBuilder();
        p.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        lock (_processes) _processes.Add(p);
        Logs[p] = log;
        return p;
    }

    readonly Dictionary<Process, System.Text.StringBuilder> Logs = new();

    public string Log(Process p) { lock (Logs[p]) return Logs[p].ToString(); }

    public void Finish(Process p, string what)
    {
        if (!p.WaitForExit(TimeSpan.FromMinutes(5))) { p.Kill(true); throw new TimeoutException($"{what} ran past 5 minutes:\n{Log(p)}"); }
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{what} exited with {p.ExitCode}:\n{Log(p)}");
    }

    public static int JournalLines(string runDir)
    {
        string file = new RunFolder(runDir).JournalFile;
        if (!File.Exists(file)) return 0;
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        int lines = 0, b;
        while ((b = stream.ReadByte()) >= 0) if (b == '\n') lines++;
        return lines;
    }

    /// <summary>Journal lines without their timings (which differ run to run).</summary>
    public static List<string> Untimed(string runDir) => File.ReadAllLines(new RunFolder(runDir).JournalFile)
        .Select(line =>
        {
            var entry = JsonNode.Parse(line)!.AsObject();
            entry.Remove("build_seconds");
            entry.Remove("score_seconds");
            return entry.ToJsonString();
        })
        .ToList();

    /// <summary>A PS search over demo/models (base, ja, math) scored on 24 Japanese word problems of the demo world.</summary>
    string WriteConfig()
    {
        string data = Path.Combine(Root, "data");
        DemoTasks.WriteData(new MiniatureWorld().Splits, data);
        File.WriteAllLines(Path.Combine(Root, "dev.jsonl"), File.ReadLines(Path.Combine(data, "ja_math_dev.jsonl")).Take(24));
        string models = DemoModels();
        string config = Path.Combine(Root, "evolve.yml");
        // YAML single quotes keep the regex's backslashes as they are.
        File.WriteAllText(config, $"""
            name: loopback
            seed: 11
            base_model: {models}/base
            models: [{models}/ja, {models}/math]
            ps: {"{"} method: task_arithmetic, parameters: [weight], layer_groups: 2, globals: {"{"} normalize: 0 {"}"} {"}"}
            optimizer: {"{"} population: 6, generations: 4 {"}"}
            fitness:
              - {"{"} task: jsonl, data: dev.jsonl, template: '{"{"}prompt{"}"}', answer_field: strict, match: regex, regex: '{DemoTasks.StrictPattern}', max_new_tokens: {DemoTasks.MaxNewCharacters} {"}"}
            """);
        return config;
    }

    public static string DemoModels()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (Directory.Exists(Path.Combine(dir.FullName, "demo", "models", "base"))) return Path.Combine(dir.FullName, "demo", "models");
        throw new DirectoryNotFoundException($"demo/models above {AppContext.BaseDirectory}");
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    static bool Answers(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException) { return false; }
    }

    public void Dispose()
    {
        lock (_processes)
            foreach (var p in _processes)
            {
                try { if (!p.HasExited) { p.Kill(true); p.WaitForExit(5000); } } catch (InvalidOperationException) { }
                p.Dispose();
            }
        Directory.Delete(Root, recursive: true);
    }
}
