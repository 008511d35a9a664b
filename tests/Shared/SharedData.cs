using System.Diagnostics;

namespace EvoMerge.TestSupport;

/// <summary>
/// Finds the repository root and the read-only data beside it (<c>../shared/data</c>: MGSM, GSM8K, stories260K,
/// the Mistral tokenizer). Tests that need it use <see cref="SharedDataFactAttribute"/>, which skips with a
/// clear message where the folder is absent. <c>EVOMERGE_SHARED_DATA</c> overrides the location.
/// </summary>
public static class SharedData
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string DataRoot { get; } =
        Environment.GetEnvironmentVariable("EVOMERGE_SHARED_DATA")
        ?? Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "data"));

    /// <summary>Absolute path of a file or folder under the shared data root.</summary>
    public static string PathOf(string relative) => Path.Combine(DataRoot, relative);

    public static bool Has(string relative) => File.Exists(PathOf(relative)) || Directory.Exists(PathOf(relative));

    static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "EvoMerge.slnx"))) return dir.FullName;
        throw new InvalidOperationException("EvoMerge.slnx not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>A fact that needs a file or folder under <c>../shared/data</c>; skipped, saying which, when absent.</summary>
public sealed class SharedDataFactAttribute : FactAttribute
{
    public SharedDataFactAttribute(string relativePath)
    {
        if (!SharedData.Has(relativePath))
            Skip = $"shared data '{relativePath}' not found under {SharedData.DataRoot} (set EVOMERGE_SHARED_DATA)";
    }
}

/// <summary>
/// Debian's Python (<c>/usr/bin/python3</c>, not a pyenv shim) with the packages that tests use as independent
/// references: python3-torch, python3-numpy, python3-cmaes. <c>.ci/run</c> installs them.
/// </summary>
public static class PythonReference
{
    public const string Interpreter = "/usr/bin/python3";
    static readonly Dictionary<string, bool> Available = new();

    public static bool Has(string module)
    {
        lock (Available)
        {
            if (!Available.TryGetValue(module, out bool ok))
                Available[module] = ok = File.Exists(Interpreter) && Run($"-c \"import {module}\"", TimeSpan.FromMinutes(2)).ExitCode == 0;
            return ok;
        }
    }

    /// <summary>Runs the interpreter with <paramref name="arguments"/>; returns exit code, stdout and stderr.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(string arguments, TimeSpan timeout, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(Interpreter, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        // One thread each: the reference must not fight the test process for the two cores.
        psi.Environment["OMP_NUM_THREADS"] = "1";
        psi.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout)) { p.Kill(true); throw new TimeoutException($"python {arguments} ran past {timeout}"); }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}

/// <summary>A fact that needs a Debian Python module as reference; skipped, saying which, when absent.</summary>
public sealed class PythonReferenceFactAttribute : FactAttribute
{
    public PythonReferenceFactAttribute(string module)
    {
        if (!PythonReference.Has(module))
            Skip = $"{PythonReference.Interpreter} with module '{module}' not found (apt-get install python3-{module}; .ci/run does)";
    }
}

/// <summary>A theory that needs Debian Python modules as reference; skipped, saying which, when one is absent.</summary>
public sealed class PythonReferenceTheoryAttribute : TheoryAttribute
{
    public PythonReferenceTheoryAttribute(params string[] modules)
    {
        if (modules.FirstOrDefault(m => !PythonReference.Has(m)) is { } missing)
            Skip = $"{PythonReference.Interpreter} with module '{missing}' not found (apt-get install python3-{missing}; .ci/run does)";
    }
}
