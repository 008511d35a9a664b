using System.Diagnostics;
using EvoMerge.Tokenization;
using EvoMerge.TestSupport;

namespace EvoMerge.Tests.Tokenization;

/// <summary>The Mistral-7B SentencePiece tokenizer against Debian's <c>spm_encode</c> (the reference implementation).</summary>
public class SentencePieceTokenizerTests
{
    const string Model = "tokenizers/mistral-7b-v0.1/tokenizer.model";

    [SpmEncodeFact(Model)]
    public void MgsmQuestionsEncodeToTheIdsSpmEncodeGives()
    {
        var tokenizer = SentencePieceModelTokenizer.Load(SharedData.PathOf(Model));
        var questions = new[] { "mgsm/mgsm_ja.tsv", "mgsm/mgsm_en.tsv" }
            .SelectMany(f => File.ReadLines(SharedData.PathOf(f)).Take(40).Select(l => l.Split('\t')[0]))
            .ToArray();
        string[] expected = SpmEncode(SharedData.PathOf(Model), questions);
        Assert.Equal(questions.Length, expected.Length);
        for (int i = 0; i < questions.Length; i++)
        {
            Assert.Equal(expected[i], string.Join(' ', tokenizer.Encode(questions[i], addBos: false)));
            Assert.Equal(questions[i], tokenizer.Decode(tokenizer.Encode(questions[i], addBos: true)));
        }
    }

    [SharedDataFact(Model)]
    public void BosIsAddedOnlyWhenAsked()
    {
        var tokenizer = SentencePieceModelTokenizer.Load(SharedData.PathOf(Model));
        Assert.Equal(1, tokenizer.BosId);
        Assert.Equal(2, tokenizer.EosId);
        Assert.Equal(32000, tokenizer.VocabSize);
        Assert.Equal(1, tokenizer.Encode("Hello", addBos: true)[0]);
        Assert.NotEqual(1, tokenizer.Encode("Hello", addBos: false)[0]);
    }

    internal const string SpmEncodePath = "/usr/bin/spm_encode";

    static string[] SpmEncode(string model, IReadOnlyList<string> lines)
    {
        string input = Path.GetTempFileName();
        try
        {
            File.WriteAllLines(input, lines);
            var psi = new ProcessStartInfo(SpmEncodePath, $"--model={model} --output_format=id --input={input}")
            { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi)!;
            string output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, p.StandardError.ReadToEnd());
            return output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        }
        finally { File.Delete(input); }
    }
}

/// <summary>Needs the shared data file and Debian's <c>spm_encode</c>; skipped, saying which, when either is absent.</summary>
public sealed class SpmEncodeFactAttribute : FactAttribute
{
    public SpmEncodeFactAttribute(string relativePath)
    {
        if (!SharedData.Has(relativePath)) Skip = $"shared data '{relativePath}' not found under {SharedData.DataRoot}";
        else if (!File.Exists(SentencePieceTokenizerTests.SpmEncodePath)) Skip = "spm_encode not installed (apt-get install sentencepiece; .ci/run does)";
    }
}
