using EvoMerge.Demo.Vision;

namespace EvoMerge.Demo.Tests;

/// <summary>The VLM world: splits, disjointness from training, Japanese counters, pictures.</summary>
public class VisionWorldTests
{
    static readonly VisionWorld World = new();

    [Fact]
    public void SplitsHaveTheirSizesAreDisjointAndFixed()
    {
        var s = World.Splits;
        Assert.Equal(VisionSplits.DevScenes, s.Dev.Count);
        Assert.Equal(VisionSplits.TestScenes, s.Test.Count);
        var dev = s.Dev.Select(x => x.Key).ToHashSet();
        var test = s.Test.Select(x => x.Key).ToHashSet();
        Assert.Equal(s.Dev.Count, dev.Count);
        Assert.Equal(s.Test.Count, test.Count);
        Assert.Empty(dev.Intersect(test));
        // Different pictures and different questions too (a key fixes the questions; images differ by key).
        Assert.Empty(VisionSplits.JapaneseQuestions(s.Dev).Select(Text).Intersect(VisionSplits.JapaneseQuestions(s.Test).Select(Text)));
        Assert.Equal(s.Test, new VisionWorld().Splits.Test);
        Assert.NotEqual(s.Test.Select(x => x.Key), new VisionWorld(splitSeed: 7).Splits.Test.Select(x => x.Key));
    }

    static string Text(SceneQuestion q) => q.Scene.Key + "|" + q.Question;

    [Fact]
    public void TrainingNeverShowsAHeldOutSceneInAnyForm()
    {
        var heldOut = World.Splits.All.Select(s => s.Key).ToHashSet();
        var heldOutPictures = World.Splits.All.Select(s => Convert.ToBase64String(SceneRenderer.RenderRgb(s))).ToHashSet();
        var captions = World.Captions(3).Take(3000).ToList();
        var qa = World.EnglishQa(4).Take(3000).ToList();
        // A question like "What is in the picture?" recurs across scenes; what must never recur is a held-out scene
        // (thing, colour, count, row, background), in a caption or a question of any kind.
        Assert.All(captions.Concat(qa), e => Assert.DoesNotContain(e.Scene.Key, heldOut));
        Assert.Empty(heldOut.Intersect(captions.Select(e => e.Scene.Key)));
        // Nor a held-out picture.
        Assert.All(captions.Take(500), e => Assert.DoesNotContain(Convert.ToBase64String(SceneRenderer.RenderRgb(e.Scene)), heldOutPictures));
        // The stream covers the world: every non-held-out thing, colour, count and row occurs.
        Assert.Equal(10, captions.Select(e => e.Scene.Thing).Distinct().Count());
        Assert.Equal(6, captions.Select(e => e.Scene.Colour).Distinct().Count());
        Assert.Equal(3, captions.Select(e => e.Scene.Count).Distinct().Count());
    }

    [Theory]
    // Hand-written: Japanese counts small animals with 匹, long thin things with 本, bound volumes with 冊, flat things
    // with 枚 and other small objects with 個; 本 (book) is counted with 冊, not with the 本 it is written with.
    [InlineData("cat", 3, "ねこは何匹ですか?", "3匹です。", "3匹")]
    [InlineData("dog", 1, "いぬは何匹ですか?", "1匹です。", "1匹")]
    [InlineData("pen", 2, "ペンは何本ですか?", "2本です。", "2本")]
    [InlineData("flower", 3, "花は何本ですか?", "3本です。", "3本")]
    [InlineData("book", 2, "本は何冊ですか?", "2冊です。", "2冊")]
    [InlineData("notebook", 1, "ノートは何冊ですか?", "1冊です。", "1冊")]
    [InlineData("card", 3, "カードは何枚ですか?", "3枚です。", "3枚")]
    [InlineData("stamp", 2, "切手は何枚ですか?", "2枚です。", "2枚")]
    [InlineData("apple", 1, "りんごは何個ですか?", "1個です。", "1個")]
    [InlineData("ball", 3, "ボールは何個ですか?", "3個です。", "3個")]
    public void JapaneseCountsUseTheThingsCounter(string thing, int count, string question, string answer, string key)
    {
        var q = SceneQuestions.Japanese(Make(thing, "red", count), VqaKind.Count);
        Assert.Equal((question, answer, key), (q.Question, q.Answer, q.Key));
    }

    [Fact]
    public void ColourKindAndEnglishQuestionsReadAsWritten()
    {
        var s = Make("cat", "yellow", 2);
        Assert.Equal(("ねこは何色ですか?", "黄色です。", "黄色"), Triple(SceneQuestions.Japanese(s, VqaKind.Colour)));
        Assert.Equal(("何がありますか?", "ねこです。", "ねこ"), Triple(SceneQuestions.Japanese(s, VqaKind.Kind)));
        Assert.Equal(("What colour are the cats?", "yellow", "yellow"), Triple(SceneQuestions.English(s, VqaKind.Colour)));
        Assert.Equal(("How many cats are there?", "2", "2"), Triple(SceneQuestions.English(s, VqaKind.Count)));
        Assert.Equal(("Where are the cats?", "top", "top"), Triple(SceneQuestions.English(s, VqaKind.Position)));
        Assert.Equal("2 yellow cats at the top.", SceneQuestions.Caption(s));
        Assert.Equal("What colour is the cat?", SceneQuestions.English(s with { Count = 1 }, VqaKind.Colour).Question);
    }

    [Fact]
    public void EveryJapaneseQuestionAndAnswerIsInTheDemoVocabulary()
    {
        var tokenizer = new CharacterTokenizer();
        foreach (var q in VisionSplits.JapaneseQuestions(World.Splits.All))
        {
            tokenizer.Encode(SceneQuestions.JapaneseTemplate.Replace("<image>", "").Replace("{question}", q.Question), addBos: true);
            tokenizer.Encode(q.Answer, addBos: false);
        }
    }

    [Fact]
    public void PicturesShowTheirObjectsInTheirRowAndColour()
    {
        // A red ball alone in the top row: red pixels (R > 180, G, B < 80) only in the top third; none for a blue one.
        var red = SceneRenderer.RenderRgb(Make("ball", "red", 1));
        var (top, rest) = CountPixels(red, (r, g, b) => r > 180 && g < 80 && b < 80);
        Assert.True(top > 40, $"{top} red pixels in the top row");
        Assert.Equal(0, rest);
        Assert.Equal((0, 0), CountPixels(SceneRenderer.RenderRgb(Make("ball", "blue", 1)), (r, g, b) => r > 180 && g < 80 && b < 80));
        // Three objects cover about three times the pixels of one.
        var (three, _) = CountPixels(SceneRenderer.RenderRgb(Make("ball", "red", 3)), (r, g, b) => r > 180 && g < 80 && b < 80);
        Assert.InRange(three, 2.5 * top, 3.5 * top);
        // Deterministic, and the PNG decodes to the same pixels.
        Assert.Equal(red, SceneRenderer.RenderRgb(Make("ball", "red", 1)));
        using var decoded = SkiaSharp.SKBitmap.Decode(SceneRenderer.RenderPng(Make("ball", "red", 1)));
        Assert.Equal((48, 48), (decoded.Width, decoded.Height));
        var p = decoded.GetPixel(8, 8);
        Assert.Equal((red[(8 * 48 + 8) * 3], red[(8 * 48 + 8) * 3 + 1]), (p.Red, p.Green));
    }

    static (int Top, int Below) CountPixels(byte[] rgb, Func<byte, byte, byte, bool> match)
    {
        int top = 0, rest = 0;
        for (int i = 0; i < 48 * 48; i++)
            if (match(rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2])) { if (i / 48 < 16) top++; else rest++; }
        return (top, rest);
    }

    static (string, string, string) Triple(SceneQuestion q) => (q.Question, q.Answer, q.Key);

    static Scene Make(string thing, string colour, int count) => new(
        WorldLexicon.Things.Single(t => t.EnOne == thing), WorldLexicon.Colours.Single(c => c.En == colour), count, SceneRow.Top, 0, 42);
}
