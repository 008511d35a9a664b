using EvoMerge.Evaluation;
using EvoMerge.Evaluation.Answers;
using EvoMerge.Evaluation.Data;
using EvoMerge.Evaluation.Tasks;
using EvoMerge.TestSupport;

namespace EvoMerge.Tests.Evaluation;

/// <summary>The loaders on the real MGSM and GSM8K files in ../shared/data (facts from their SOURCE.md).</summary>
public class SharedDataLoaderTests
{
    [SharedDataFact("mgsm/mgsm_ja.tsv")]
    public void MgsmJapaneseHas250ItemsWithNumericAnswersFourWithCommas()
    {
        var items = MgsmData.LoadTsv(SharedData.PathOf("mgsm/mgsm_ja.tsv"));
        Assert.Equal(250, items.Count);
        var matcher = new NumberMatcher();
        foreach (var item in items) matcher.ValidateGold(item.Gold, item.Source);
        Assert.Equal(["2,125", "114,200", "276,000", "5,600"], items.Where(i => i.Gold.Contains(',')).Select(i => i.Gold));
        Assert.StartsWith("ジャネットのアヒルは1日に16個の卵を生みます。", items[0].Fields["question"]);
        Assert.Equal("18", items[0].Gold);
    }

    [SharedDataFact("mgsm/mgsm_en.tsv")]
    public void MgsmEnglishIsGsm8kTestsFirst250()
    {
        var mgsm = MgsmData.LoadTsv(SharedData.PathOf("mgsm/mgsm_en.tsv"));
        var gsm8k = Gsm8kData.Load(SharedData.PathOf("gsm8k/test.jsonl"));
        Assert.Equal(1319, gsm8k.Count);
        for (int i = 0; i < 250; i++)
        {
            Assert.Equal(gsm8k[i].Fields["question"], mgsm[i].Fields["question"]);
            Assert.True(new NumberMatcher().Check(mgsm[i].Gold, gsm8k[i].Gold).Correct, $"item {i}: {mgsm[i].Gold} vs {gsm8k[i].Gold}");
        }
    }

    [SharedDataFact("gsm8k/test.jsonl")]
    public void Gsm8kGoldIsTheNumberAfterTheHashes()
    {
        var items = Gsm8kData.Load(SharedData.PathOf("gsm8k/test.jsonl"));
        Assert.Equal("18", items[0].Gold);   // "… $<<9*2=18>>18 every day at the farmer’s market.\n#### 18"
        Assert.Equal("3", items[1].Gold);
        var matcher = new NumberMatcher();
        foreach (var item in items) matcher.ValidateGold(item.Gold, item.Source);
        var exemplar = Gsm8kData.LoadExemplars(SharedData.PathOf("gsm8k/train.jsonl"))[0];
        Assert.DoesNotContain("<<", exemplar.Solution);
        Assert.Contains("####", exemplar.Solution);
    }

    [SharedDataFact("mgsm/mgsm_exemplars_ja.jsonl")]
    public void MgsmFewShotPromptUsesTheExemplarFileBesideTheData()
    {
        var task = (GenerationTask)EvalTasks.Create(new EvalTaskSpec(TaskKind.Mgsm, SharedData.PathOf("mgsm/mgsm_ja.tsv"), Shots: 2));
        string prompt = task.PromptOf(0);
        Assert.StartsWith("以下に、あるタスクを説明する指示があります。", prompt);
        Assert.Contains("### 指示:\n問題：ロジャーは5個のテニスボールがあります。", prompt);
        Assert.Contains("### 応答:\nステップごとの答え：ロジャーは最初5個のボールがありました。", prompt);
        Assert.Contains("答えは29です。\n\n", prompt);            // the second exemplar's solution ends the shots
        Assert.DoesNotContain("問題：リアは32個", prompt);           // only two shots
        Assert.EndsWith("### 指示:\n" + task.Items[0].Fields["question"] + "\n\n### 応答:", prompt);
        Assert.Throws<EvoMergeException>(() => EvalTasks.Create(new EvalTaskSpec(TaskKind.Mgsm, SharedData.PathOf("mgsm/mgsm_ja.tsv"), Shots: 9)));
    }
}
