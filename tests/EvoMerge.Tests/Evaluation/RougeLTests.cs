using System.Text.Json;
using EvoMerge.Evaluation.Rouge;
using EvoMerge.TestSupport;

namespace EvoMerge.Tests.Evaluation;

/// <summary>
/// ROUGE-L F1 ×100 against <c>rouge_reference.py</c> (a hand-written LCS table and its own tokenisers) on 160
/// Japanese prediction/reference pairs, in both tokenisations: character-level (default) and Debian's MeCab.
/// </summary>
public class RougeLTests
{
    [Fact]
    public void HandValues()
    {
        // 赤い車 vs 赤い自転車: chars 赤,い,車 vs 赤,い,自,転,車; LCS 3, P = 1, R = 3/5, F1 = 0.75.
        Assert.Equal(0.75, RougeL.F1(CharacterTokenizer.Tokenize("赤い車。"), CharacterTokenizer.Tokenize("赤い自転車")), 12);
        Assert.Equal(["a", "red", "car", "と", "猫"], CharacterTokenizer.Tokenize("A red car と「猫」!"));
        Assert.Equal(0, RougeL.F1([], ["a"]));
        Assert.Equal(3, RougeL.Lcs(["a", "b", "c", "d"], ["x", "a", "c", "d"]));
    }

    [PythonReferenceFact("unicodedata")]
    public void CharacterTokenisationMatchesIndependentReference() => Compare("char", new CharacterTokenizer());

    [Fact]
    public void MecabTokenisationMatchesIndependentReference()
    {
        if (!File.Exists("/usr/bin/mecab") || !File.Exists(PythonReference.Interpreter))
        {
            Console.WriteLine("skipped: /usr/bin/mecab not installed (apt-get install mecab mecab-ipadic-utf8; .ci/run does)");
            return;
        }
        Compare("mecab", new MecabTokenizer());
    }

    [Fact]
    public void MissingMecabIsAClearError()
    {
        var e = Assert.Throws<EvoMergeException>(() => new MecabTokenizer("/nonexistent/mecab").Tokenize(["猫"]));
        Assert.StartsWith("--tokenizer mecab: '/nonexistent/mecab' could not be started", e.Message);
    }

    static void Compare(string mode, IAnswerTokenizer tokenizer)
    {
        var pairs = Pairs();
        string dir = Directory.CreateTempSubdirectory("rouge-").FullName;
        try
        {
            string input = Path.Combine(dir, "pairs.json"), output = Path.Combine(dir, "scores.json");
            File.WriteAllText(input, JsonSerializer.Serialize(pairs.Select(p => new[] { p.Prediction, p.Reference })));
            string script = Path.Combine(AppContext.BaseDirectory, "Fixtures", "Rouge", "rouge_reference.py");
            var (code, _, err) = PythonReference.Run($"\"{script}\" {mode} \"{input}\" \"{output}\"", TimeSpan.FromMinutes(3));
            Assert.True(code == 0, err);
            var expected = JsonSerializer.Deserialize<double[]>(File.ReadAllText(output))!;
            var tokens = tokenizer.Tokenize(pairs.SelectMany(p => new[] { p.Prediction, p.Reference }).ToArray());
            var actual = pairs.Select((_, i) => RougeL.F1(tokens[2 * i], tokens[2 * i + 1]) * 100).ToArray();
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < actual.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-9, $"{mode} pair {i} ('{pairs[i].Prediction}' / '{pairs[i].Reference}'): {actual[i]} vs {expected[i]}");
            // The pairs must exercise the metric: exact, partial and disjoint answers.
            Assert.Contains(actual, s => s == 100);
            Assert.Contains(actual, s => s == 0);
            Assert.True(actual.Count(s => s is > 0 and < 100) >= 60, "too few partial overlaps");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    static readonly string[] Phrases =
    [
        "赤い車が道路に止まっています", "二人の男性がテニスをしている", "白い犬が芝生の上で寝ている", "テーブルの上にりんごが三つある",
        "青い空と雲", "子供たちが公園で遊んでいます", "電車が駅に到着した", "女性が傘をさして歩いている", "木の下にベンチがある",
        "猫がソファーの上にいる", "東京タワーが見える", "ピザとコーヒー", "黄色いバス", "雪が降っている山", "二台の自転車",
        "男性はスマートフォンを持っています", "窓の外に海が見えます", "時計は3時を指している", "看板に「止まれ」と書いてある", "緑色のシャツ",
    ];

    /// <summary>160 deterministic pairs: identical, truncated, reordered, mixed with English and punctuation, unrelated.</summary>
    static List<(string Prediction, string Reference)> Pairs()
    {
        var rng = new Random(2024);
        var pairs = new List<(string, string)>();
        for (int i = 0; i < 160; i++)
        {
            string reference = Phrases[rng.Next(Phrases.Length)];
            string prediction = (i % 8) switch
            {
                0 => reference,
                1 => reference[..Math.Max(1, reference.Length / 2)],
                2 => reference[(reference.Length / 3)..] + "。",
                3 => string.Concat(reference.Reverse()),
                4 => "答えは「" + reference + "」です!",
                5 => Phrases[rng.Next(Phrases.Length)] + " and a red car",
                6 => "It is " + Phrases[rng.Next(Phrases.Length)][..3],
                _ => new string(reference.Where((_, k) => rng.Next(3) != 0).ToArray()),
            };
            pairs.Add((prediction, reference));
        }
        pairs.Add(("Ｔｏｋｙｏ　タワー、１２３", "tokyo タワー 123"));
        pairs.Add(("", "猫"));
        pairs.Add(("dog", "猫"));
        return pairs;
    }
}
