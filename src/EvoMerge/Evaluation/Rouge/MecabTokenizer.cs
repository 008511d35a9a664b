using System.Diagnostics;
using System.Text;

namespace EvoMerge.Evaluation.Rouge;

/// <summary>
/// Morpheme tokens from an installed MeCab (<c>mecab -Owakati</c>, e.g. Debian's mecab with its IPA dictionary),
/// closer to the paper's tokenisation (MeCab with unidic-lite). One process per batch, one line per text.
/// Tokens are lower-cased and those made only of punctuation or symbols are dropped, as in <see cref="CharacterTokenizer"/>.
/// </summary>
public sealed class MecabTokenizer(string executable = "mecab") : IAnswerTokenizer
{
    public string Name => "mecab";

    public IReadOnlyList<IReadOnlyList<string>> Tokenize(IReadOnlyList<string> texts)
    {
        if (texts.Count == 0) return [];
        var psi = new ProcessStartInfo(executable, "-Owakati")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardInputEncoding = new UTF8Encoding(false),
            StandardOutputEncoding = Encoding.UTF8,
        };
        Process process;
        try { process = Process.Start(psi) ?? throw new InvalidOperationException(); }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new EvoMergeException($"--tokenizer mecab: '{executable}' could not be started ({e.Message}); install it (apt-get install mecab mecab-ipadic-utf8) or use --tokenizer char");
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            foreach (string t in texts) process.StandardInput.WriteLine(OneLine(t));
            process.StandardInput.Close();
            process.WaitForExit();
            if (process.ExitCode != 0)
                throw new EvoMergeException($"--tokenizer mecab: '{executable}' exited with code {process.ExitCode}: {stderr.Result.Trim()}");
            var lines = stdout.Result.Split('\n');
            if (lines.Length < texts.Count)
                throw new EvoMergeException($"--tokenizer mecab: '{executable}' returned {lines.Length} lines for {texts.Count} texts");
            return lines.Take(texts.Count).Select(Tokens).ToArray();
        }
    }

    /// <summary>MeCab reads lines: other line breaks become spaces (which it treats as separators).</summary>
    static string OneLine(string text) => string.Join(' ', text.Split(['\r', '\n', '\u2028', '\u2029'], StringSplitOptions.RemoveEmptyEntries));

    static IReadOnlyList<string> Tokens(string line) =>
        line.Split([' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries)
            .Where(t => !t.EnumerateRunes().All(CharacterTokenizer.IsSeparator))
            .Select(t => t.ToLowerInvariant())
            .ToArray();
}
