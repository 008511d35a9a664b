using System.Diagnostics;
using System.Text.Json.Nodes;
using EvoMerge.Evolution.Run;
using EvoMerge.TestSupport;

namespace EvoMerge.Torch.Tests.Evolution;

/// <summary>
/// The real thing: <c>evomerge evolve</c> in its own process, killed with SIGKILL in the middle of the search, then
/// <c>--resume</c>d. The journal must equal an uninterrupted run's, entry for entry (timings aside).
/// </summary>
public class KillNineTests(StoriesExperts experts) : IClassFixture<StoriesExperts>
{
    static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "EvoMerge.Cli.dll");

    [SharedDataFact(StoriesExperts.Checkpoint)]
    public void A_run_killed_with_sigkill_and_resumed_journals_what_an_uninterrupted_run_journals()
    {
        string dir = Path.Combine(experts.Root, "kill9");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "story.txt"), "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.\n");
        string config = Path.Combine(dir, "evolve.yml");
        File.WriteAllText(config, $"""
            name: kill9
            seed: 4
            base_model: {experts.Base}
            models: [{experts.A}, {experts.B}]
            ps: {"{"} method: dare_ties, layer_groups: 2 {"}"}
            optimizer: {"{"} population: 4, generations: 8 {"}"}
            fitness:
              - {"{"} task: perplexity, data: story.txt {"}"}
            """);
        string whole = Path.Combine(dir, "whole"), killed = Path.Combine(dir, "killed");

        Assert.Equal(0, Evolve(config, whole).WaitForExitOrKill());

        using (var run = Evolve(config, killed))
        {
            string journal = new RunFolder(killed).JournalFile;
            var watch = Stopwatch.StartNew();
            while (LineCount(journal) < 10 && !run.HasExited && watch.Elapsed < TimeSpan.FromMinutes(2)) Thread.Sleep(20);
            Assert.False(run.HasExited, "the run finished before it could be killed");
            run.Kill();   // SIGKILL: no handler, no flush, no cleanup
            run.WaitForExit();
        }
        Assert.InRange(LineCount(new RunFolder(killed).JournalFile), 10, 8 * 4 - 1);
        Assert.Equal(0, Evolve(config, killed, "--resume").WaitForExitOrKill());

        Assert.Equal(Untimed(whole), Untimed(killed));
    }

    internal static Process Evolve(string config, string runDir, params string[] extra)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])[Cli, "evolve", config, "--run-dir", runDir, "--threads", "1", "--dtype", "f32", .. extra])
            psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    internal static int LineCount(string file)
    {
        if (!File.Exists(file)) return 0;
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        int lines = 0, b;
        while ((b = stream.ReadByte()) >= 0) if (b == '\n') lines++;
        return lines;
    }

    /// <summary>Journal entries without their timings (which differ run to run).</summary>
    internal static List<string> Untimed(string runDir) => File.ReadAllLines(new RunFolder(runDir).JournalFile)
        .Select(line =>
        {
            var entry = JsonNode.Parse(line)!.AsObject();
            entry.Remove("build_seconds");
            entry.Remove("score_seconds");
            return entry.ToJsonString();
        })
        .ToList();
}

static class ProcessExtensions
{
    public static int WaitForExitOrKill(this Process p)
    {
        if (!p.WaitForExit(TimeSpan.FromMinutes(5))) { p.Kill(); throw new TimeoutException("evomerge evolve ran past 5 minutes"); }
        p.WaitForExit();
        int code = p.ExitCode;
        p.Dispose();
        return code;
    }
}
