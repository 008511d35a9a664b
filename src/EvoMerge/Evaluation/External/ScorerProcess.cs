using System.ComponentModel;
using System.Diagnostics;

namespace EvoMerge.Evaluation.External;

/// <summary>
/// Runs one try of a fitness command: the program started directly with its argument list (no shell), standard
/// input closed, standard output read and dropped, the last lines of standard error kept. A run past its timeout,
/// or one whose caller cancels, is killed together with every process it started (stopped first, so it cannot start
/// more while its tree is walked).
/// </summary>
public static class ScorerProcess
{
    /// <summary>Lines of standard error kept for the journal and error messages, and the characters kept of each.</summary>
    public const int TailLines = 20, TailLineChars = 500;

    /// <summary>How long the output pipes may stay open after the program ended (a process it left behind may hold them).</summary>
    static readonly TimeSpan PipeGrace = TimeSpan.FromSeconds(5);

    /// <param name="started">Told the process id as soon as the program runs (to find it again after a crash of ours).</param>
    /// <exception cref="EvoMergeException">The program cannot be started (not found, not executable).</exception>
    /// <exception cref="OperationCanceledException">Cancelled; the program and its children were killed.</exception>
    public static ScorerRun Run(IReadOnlyList<string> arguments, string workingDirectory, double timeoutSeconds,
        CancellationToken cancellationToken, Action<Process>? started = null)
    {
        var psi = new ProcessStartInfo(arguments[0])
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in arguments.Skip(1)) psi.ArgumentList.Add(a);
        var watch = Stopwatch.StartNew();
        Process process;
        try { process = Process.Start(psi) ?? throw new EvoMergeException($"cannot start '{arguments[0]}'"); }
        catch (Win32Exception e)
        {
            throw new EvoMergeException($"cannot start '{arguments[0]}' in {workingDirectory}: {e.Message} (is it installed and on PATH?)", e);
        }
        using (process)
        {
            started?.Invoke(process);
            process.StandardInput.Close();
            var tail = new Tail();
            var errors = Task.Run(() => tail.ReadAll(process.StandardError));
            var output = process.StandardOutput.BaseStream.CopyToAsync(Stream.Null);

            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(TimeSpan.FromSeconds(Math.Min(timeoutSeconds, int.MaxValue / 1000.0)));
            bool timedOut = false;
            try { process.WaitForExitAsync(deadline.Token).GetAwaiter().GetResult(); }
            catch (OperationCanceledException)
            {
                KillTree(process);
                cancellationToken.ThrowIfCancellationRequested();
                timedOut = true;
            }
            Task.WaitAny([Task.WhenAll(errors, output)], PipeGrace);
            return new ScorerRun(timedOut ? null : process.ExitCode, timedOut, tail.Lines(), watch.Elapsed.TotalSeconds);
        }
    }

    /// <summary>
    /// Kills the process and every descendant; a process already gone is not an error. Waits for it only when it is
    /// our child: another's (an orphan found after a crash) may stay a zombie as long as nobody reaps it.
    /// </summary>
    public static void KillTree(Process process, bool wait = true)
    {
        try { process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }   // exited meanwhile
        catch (Win32Exception) { }               // a descendant exited meanwhile
        if (wait) process.WaitForExit();
    }

    /// <summary>
    /// The last <see cref="TailLines"/> lines of a stream, each cut at <see cref="TailLineChars"/>: memory stays
    /// bounded whatever the program writes (a megabyte without a newline included).
    /// </summary>
    sealed class Tail
    {
        readonly Queue<string> _lines = new();

        public void ReadAll(TextReader reader)
        {
            var buffer = new char[4096];
            var line = new System.Text.StringBuilder();
            bool cut = false;
            for (int n; (n = reader.Read(buffer)) > 0;)
                foreach (char c in buffer.AsSpan(0, n))
                {
                    if (c == '\n')
                    {
                        Add(line, cut);
                        cut = false;
                    }
                    else if (line.Length < TailLineChars) line.Append(c);
                    else cut = true;
                }
            if (line.Length > 0 || cut) Add(line, cut);
        }

        void Add(System.Text.StringBuilder line, bool cut)
        {
            string text = line.ToString().TrimEnd('\r') + (cut ? "…" : "");
            line.Clear();
            lock (_lines)
            {
                _lines.Enqueue(text);
                if (_lines.Count > TailLines) _lines.Dequeue();
            }
        }

        public IReadOnlyList<string> Lines() { lock (_lines) return _lines.ToList(); }
    }
}

/// <summary>How one try ended.</summary>
/// <param name="ExitCode">The program's exit code; null when it was killed at its timeout.</param>
/// <param name="StderrTail">The last lines it wrote to standard error.</param>
public sealed record ScorerRun(int? ExitCode, bool TimedOut, IReadOnlyList<string> StderrTail, double Seconds);
