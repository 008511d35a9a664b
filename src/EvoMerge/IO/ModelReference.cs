using System.Text.RegularExpressions;

namespace EvoMerge.IO;

/// <summary>
/// Turns what a user typed into a local path: a folder or file that exists, or a Hugging Face id
/// (<c>org/name</c>, optionally <c>@revision</c>) found in the local Hugging Face cache, in the
/// <c>hub/models--org--name/snapshots/&lt;commit&gt;/</c> layout that <c>huggingface-cli download</c> leaves.
/// Nothing is ever downloaded.
/// </summary>
public static partial class ModelReference
{
    [GeneratedRegex(@"^(?<org>[A-Za-z0-9][\w.-]*)/(?<name>[\w.-]+)(@(?<revision>[\w./-]+))?$")]
    private static partial Regex HubId();

    /// <summary>
    /// The hub cache folder: <c>$HF_HUB_CACHE</c>, else <c>$HF_HOME/hub</c>, else <c>$XDG_CACHE_HOME/huggingface/hub</c>,
    /// else <c>~/.cache/huggingface/hub</c> (the same order as the huggingface_hub library).
    /// </summary>
    public static string HubCacheFolder()
    {
        if (Environment.GetEnvironmentVariable("HF_HUB_CACHE") is { Length: > 0 } hub) return hub;
        if (Environment.GetEnvironmentVariable("HF_HOME") is { Length: > 0 } home) return Path.Combine(home, "hub");
        string cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(cache, "huggingface", "hub");
    }

    /// <summary>The full local path of <paramref name="reference"/>; an <see cref="EvoMergeException"/> saying where it looked when absent.</summary>
    public static string Resolve(string reference) => Resolve(reference, HubCacheFolder());

    /// <summary>As <see cref="Resolve(string)"/>, looking for Hugging Face ids in <paramref name="hubCache"/>.</summary>
    public static string Resolve(string reference, string hubCache)
    {
        if (File.Exists(reference) || Directory.Exists(reference)) return Path.GetFullPath(reference);
        var match = HubId().Match(reference);
        if (!match.Success)
            throw new EvoMergeException($"model '{reference}': no such file or folder (and not a Hugging Face id of the form org/name[@revision])");
        string org = match.Groups["org"].Value, name = match.Groups["name"].Value;
        string revision = match.Groups["revision"].Success ? match.Groups["revision"].Value : "main";
        return ResolveCached($"{org}/{name}", revision, hubCache);
    }

    static string ResolveCached(string id, string revision, string hubCache)
    {
        string repo = Path.Combine(hubCache, "models--" + id.Replace("/", "--"));
        string notCached = $"model '{id}' is neither a local path nor in the Hugging Face cache ({repo} not found). " +
                           $"EvoMerge does not download models: run `huggingface-cli download {id}` first, or give a local folder";
        if (!Directory.Exists(repo)) throw new EvoMergeException(notCached);
        if (revision.Split('/').Any(part => part is "" or "." or ".."))
            throw new EvoMergeException($"model '{id}@{revision}': '{revision}' is not a valid revision");
        // A branch or tag name is a file under refs/ holding the commit; a commit is a snapshot folder itself.
        string refFile = Path.Combine(repo, "refs", revision);
        string commit = InputFile.Exists(refFile) ? InputFile.ReadAllText(refFile, 4096, "Hugging Face ref file").Trim() : revision;
        string snapshot = Path.Combine(repo, "snapshots", commit);
        if (Directory.Exists(snapshot)) return snapshot;
        var available = Directory.Exists(Path.Combine(repo, "snapshots"))
            ? Directory.GetDirectories(Path.Combine(repo, "snapshots")).Select(Path.GetFileName).ToArray()
            : [];
        throw new EvoMergeException($"model '{id}': revision '{revision}' is not in the Hugging Face cache at {repo} " +
                                    $"(cached snapshots: {(available.Length == 0 ? "none" : string.Join(", ", available))}); EvoMerge does not download models");
    }
}
