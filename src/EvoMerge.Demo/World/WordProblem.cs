namespace EvoMerge.Demo;

/// <summary>What a Japanese non-arithmetic question asks about a problem statement.</summary>
public enum QaKind { FirstNumber, Thing, City }

/// <summary>
/// One addition problem of the world (operands 1–10) and every way the demo writes it: English math, Japanese math,
/// Japanese questions that need no arithmetic, and the bare statement for parallel lines.
/// </summary>
public sealed record WordProblem(Word Person, Word Other, Word City, Thing Thing, int First, int Second, bool Gift)
{
    public int Sum => First + Second;

    /// <summary>What makes two problems the same problem: the statement (the city only appears in some QA forms).</summary>
    public string Key => EnStatement;

    public static WordProblem Next(Random rng)
    {
        var person = WorldSentences.Pick(rng, WorldLexicon.People);
        return new WordProblem(person, WorldSentences.PickOther(rng, WorldLexicon.People, person),
            WorldSentences.Pick(rng, WorldLexicon.Cities), WorldSentences.Pick(rng, WorldLexicon.Things),
            rng.Next(1, 11), rng.Next(1, 11), rng.Next(2) == 1);
    }

    public string EnStatement => Gift
        ? $"{Person.En} has {First} {Thing.En(First)} and gets {Second} more from {Other.En}. How many {Thing.EnMany} now?"
        : $"{Person.En} has {First} {Thing.En(First)} and buys {Second} more. How many {Thing.EnMany} now?";

    string JaFacts => Gift
        ? $"{Person.Ja}は{Thing.Ja}を{First}{Thing.Counter}持っています。{Other.Ja}から{Second}{Thing.Counter}もらいました。"
        : $"{Person.Ja}は{Thing.Ja}を{First}{Thing.Counter}持っています。{Second}{Thing.Counter}買いました。";

    public string JaStatement => $"{JaFacts}全部で何{Thing.Counter}ですか?";

    public string EnPrompt => $"Q: {EnStatement}\nA: ";
    public string EnAnswer => Sum.ToString();

    public string JaPrompt => $"問: {JaStatement}\n答え: ";
    public string JaAnswer => $"{Sum}{Thing.Counter}です。";

    public string JaQaPrompt(QaKind kind) => kind switch
    {
        QaKind.FirstNumber => $"問: {JaFacts}最初は何{Thing.Counter}ですか?\n答え: ",
        QaKind.Thing => $"問: {JaFacts}{Person.Ja}は何を持っていますか?\n答え: ",
        _ => $"問: {Person.Ja}は{City.Ja}に住んでいます。{JaFacts}{Person.Ja}はどこに住んでいますか?\n答え: ",
    };

    public string JaQaAnswer(QaKind kind) => kind switch
    {
        QaKind.FirstNumber => $"{First}{Thing.Counter}です。",
        QaKind.Thing => $"{Thing.Ja}です。",
        _ => $"{City.Ja}です。",
    };

    /// <summary>The statement without its answer in both languages (the base model's bridge between them).</summary>
    public string ParallelStatement => $"EN: {EnStatement} JA: {JaStatement}";
}
