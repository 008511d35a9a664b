using System.Text.Json;
using EvoMerge.Evaluation.External;
using EvoMerge.TestSupport;

namespace EvoMerge.Tests.Evaluation.External;

/// <summary>One try of a fitness command, with <c>External/scorer.py</c> as the program.</summary>
public class ScorerProcessTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("evo-scorer-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    ScorerRun Run(double timeout, params string[] args) =>
        ScorerProcess.Run(["python3", ConstantModels.Scorer, .. args], _dir, timeout, CancellationToken.None);

    [Fact]
    public void Paths_with_blanks_quotes_and_shell_syntax_arrive_as_single_arguments()
    {
        // A shell would split, expand or execute these; a direct start hands them over untouched.
        string model = Path.Combine(_dir, "my model; rm -rf $HOME `id` 'x'");
        string output = Path.Combine(_dir, "out \"1\".json");
        var command = new ScorerCommand(["python3", ConstantModels.Scorer, "argv", "{model}", "{out}"]);
        var run = ScorerProcess.Run(command.For(model, output), _dir, 60, CancellationToken.None);
        Assert.Equal(0, run.ExitCode);
        var argv = JsonSerializer.Deserialize<string[]>(File.ReadAllText(output))!;
        Assert.Equal([ConstantModels.Scorer, "argv", model, output], argv);
    }

    [Fact]
    public void A_crash_gives_its_exit_code_and_the_last_twenty_lines_of_stderr()
    {
        var run = Run(60, "crash", "m", "o");
        Assert.Equal(3, run.ExitCode);
        Assert.False(run.TimedOut);
        Assert.Equal(Enumerable.Range(10, 20).Select(i => $"stderr line {i}"), run.StderrTail);
    }

    [Fact]
    public void A_hung_scorer_is_killed_at_its_timeout_with_the_processes_it_started()
    {
        string pids = Path.Combine(_dir, "pids");
        var run = Run(2, "hang", "m", "o", pids);
        Assert.True(run.TimedOut);
        Assert.Null(run.ExitCode);
        Assert.InRange(run.Seconds, 2, 60);
        var ids = File.ReadAllText(pids).Split(' ').Select(int.Parse).ToArray();
        Assert.Equal(2, ids.Length);
        foreach (int pid in ids) Assert.True(Gone(pid), $"process {pid} (the scorer or its child) still runs");
    }

    [Fact]
    public void Cancelling_kills_the_scorer_and_its_children()
    {
        string pids = Path.Combine(_dir, "pids");
        using var cancel = new CancellationTokenSource();
        var run = Task.Run(() => ScorerProcess.Run(["python3", ConstantModels.Scorer, "hang", "m", "o", pids], _dir, 600, cancel.Token));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!File.Exists(pids) || File.ReadAllText(pids).Split(' ').Length < 2)
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), "the scorer did not start its child");
            Thread.Sleep(20);
        }
        cancel.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => run.GetAwaiter().GetResult());
        foreach (int pid in File.ReadAllText(pids).Split(' ').Select(int.Parse)) Assert.True(Gone(pid), $"process {pid} still runs");
    }

    [Fact]
    public void A_program_that_does_not_exist_is_a_clear_error()
    {
        var e = Assert.Throws<EvoMergeException>(() => ScorerProcess.Run(["no-such-scorer-xyz", "{model}"], _dir, 10, CancellationToken.None));
        Assert.StartsWith($"cannot start 'no-such-scorer-xyz' in {_dir}:", e.Message);
    }

    /// <summary>
    /// Whether the process ends within a few seconds (a kill is delivered asynchronously); a zombie counts as ended
    /// (a killed orphan waits for a reaper that a container may not have).
    /// </summary>
    internal static bool Gone(int pid)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(10))
        {
            string stat;
            try { stat = File.ReadAllText($"/proc/{pid}/stat"); }
            catch (IOException) { return true; }
            if (stat.Split(')')[^1].Trim()[0] == 'Z') return true;
            Thread.Sleep(20);
        }
        return false;
    }
}
