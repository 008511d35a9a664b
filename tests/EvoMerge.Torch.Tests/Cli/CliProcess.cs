using System.Diagnostics;

namespace EvoMerge.Torch.Tests.Cli;

/// <summary>Runs the built <c>evomerge</c> in its own process with stdout and stderr redirected to pipes, as in
/// <c>evomerge … | less</c> or a CI log: no terminal anywhere.</summary>
static class CliProcess
{
    static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "EvoMerge.Cli.dll");

    public static (int Code, string Stdout, string Stderr) Run(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Cli);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(15))) { p.Kill(true); throw new TimeoutException($"evomerge {string.Join(' ', args)} ran past 15 minutes"); }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
