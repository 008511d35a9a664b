using System.Diagnostics;

namespace EvoMerge.Bench;

/// <summary>Starts this benchmark program again as a child process (one measured run per process: its own RSS and CPU time).</summary>
static class SelfProcess
{
    /// <summary>
    /// The command for <c>EvoMerge.Bench args…</c>. Under <c>dotnet run</c> the process is the apphost, which takes the
    /// arguments directly; under <c>dotnet EvoMerge.Bench.dll</c> it is the dotnet host, which needs the dll first.
    /// </summary>
    public static ProcessStartInfo Command(params string[] args)
    {
        string process = Environment.ProcessPath ?? throw new InvalidOperationException("no process path to start the benchmark again");
        var psi = new ProcessStartInfo(process) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (Path.GetFileNameWithoutExtension(process) == "dotnet") psi.ArgumentList.Add(typeof(SelfProcess).Assembly.Location);
        foreach (string arg in args) psi.ArgumentList.Add(arg);
        return psi;
    }
}
