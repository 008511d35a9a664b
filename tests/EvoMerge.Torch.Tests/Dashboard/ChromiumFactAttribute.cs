using EvoMerge.TestSupport;
using EvoMerge.Torch.Tests.Evolution;

namespace EvoMerge.Torch.Tests.Dashboard;

/// <summary>
/// A browser test: needs Debian's chromium (Playwright's own browser download is not reachable here, so Playwright
/// drives the system executable) and the stories260K checkpoint for the runs. Skipped, saying which, when absent.
/// <c>EVOMERGE_CHROMIUM</c> overrides the executable.
/// </summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public static string? Executable { get; } = Find();

    public ChromiumFactAttribute()
    {
        if (Executable is null)
            Skip = Environment.GetEnvironmentVariable("EVOMERGE_CHROMIUM") is { Length: > 0 } set
                ? $"chromium not found at EVOMERGE_CHROMIUM={set}"
                : "chromium not found at /usr/bin/chromium (apt-get install chromium; .ci/run does; or set EVOMERGE_CHROMIUM)";
        else if (!SharedData.Has(StoriesExperts.Checkpoint))
            Skip = $"shared data '{StoriesExperts.Checkpoint}' not found under {SharedData.DataRoot} (set EVOMERGE_SHARED_DATA)";
    }

    static string? Find()
    {
        if (Environment.GetEnvironmentVariable("EVOMERGE_CHROMIUM") is { Length: > 0 } set) return File.Exists(set) ? set : null;
        // Debian's /usr/bin/chromium is a shell wrapper around this binary; either works, the binary starts faster.
        return new[] { "/usr/lib/chromium/chromium", "/usr/bin/chromium" }.FirstOrDefault(File.Exists);
    }
}
