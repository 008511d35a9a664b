namespace EvoMerge.Demo;

/// <summary>A word with its English and Japanese forms (names, cities, colours, places).</summary>
public sealed record Word(string En, string Ja);

/// <summary>A countable thing: English singular/plural, Japanese noun and the counter Japanese uses for it.</summary>
public sealed record Thing(string EnOne, string EnMany, string Ja, string Counter)
{
    public string En(int count) => count == 1 ? EnOne : EnMany;
}

/// <summary>
/// The nouns of the miniature world. Small on purpose: a 0.9M-parameter model must learn the whole world in
/// about a thousand steps, and the character vocabulary is built from exactly these strings and the templates.
/// </summary>
public static class WorldLexicon
{
    public static readonly IReadOnlyList<Word> People =
    [
        new("Tom", "太郎"), new("Ken", "健太"), new("Mary", "花子"), new("Lucy", "さくら"),
        new("Sam", "次郎"), new("Emma", "ゆき"), new("Jack", "翔"), new("Lily", "美香"),
    ];

    public static readonly IReadOnlyList<Word> Cities =
    [
        new("Tokyo", "東京"), new("Kyoto", "京都"), new("Osaka", "大阪"), new("Nara", "奈良"),
        new("Kobe", "神戸"), new("Sapporo", "札幌"), new("Nagoya", "名古屋"), new("Fukuoka", "福岡"),
    ];

    public static readonly IReadOnlyList<Word> Colours =
    [
        new("red", "赤"), new("blue", "青"), new("white", "白"), new("black", "黒"), new("green", "緑"), new("yellow", "黄色"),
    ];

    public static readonly IReadOnlyList<Word> Places =
    [
        new("park", "公園"), new("school", "学校"), new("station", "駅"), new("library", "図書館"), new("shop", "店"), new("river", "川"),
    ];

    /// <summary>Two things per Japanese counter (個/本/匹/冊/枚), so the counter depends on the object, not the template.</summary>
    public static readonly IReadOnlyList<Thing> Things =
    [
        new("apple", "apples", "りんご", "個"), new("ball", "balls", "ボール", "個"),
        new("pen", "pens", "ペン", "本"), new("flower", "flowers", "花", "本"),
        new("cat", "cats", "ねこ", "匹"), new("dog", "dogs", "いぬ", "匹"),
        new("book", "books", "本", "冊"), new("notebook", "notebooks", "ノート", "冊"),
        new("card", "cards", "カード", "枚"), new("stamp", "stamps", "切手", "枚"),
    ];

    public static readonly IReadOnlyList<string> Counters = ["個", "本", "匹", "冊", "枚"];
}
