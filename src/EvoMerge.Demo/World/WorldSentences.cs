namespace EvoMerge.Demo;

/// <summary>
/// Descriptive sentences of the world, each made at once in English and in Japanese so the same sentence can be
/// used alone (monolingual text) or side by side (parallel lines).
/// </summary>
public static class WorldSentences
{
    public static (string En, string Ja) Next(Random rng)
    {
        var person = Pick(rng, WorldLexicon.People);
        var thing = Pick(rng, WorldLexicon.Things);
        var colour = Pick(rng, WorldLexicon.Colours);
        var city = Pick(rng, WorldLexicon.Cities);
        var place = Pick(rng, WorldLexicon.Places);
        switch (rng.Next(6))
        {
            case 0: return ($"{person.En} lives in {city.En}.", $"{person.Ja}は{city.Ja}に住んでいます。");
            case 1: return ($"{person.En} likes {colour.En} {thing.EnMany}.", $"{person.Ja}は{colour.Ja}の{thing.Ja}が好きです。");
            case 2: return ($"{person.En} goes to the {place.En}.", $"{person.Ja}は{place.Ja}に行きます。");
            case 3: return ($"{person.En} has a {colour.En} {thing.EnOne}.", $"{person.Ja}は{colour.Ja}の{thing.Ja}を持っています。");
            case 4: return ($"The {place.En} is in {city.En}.", $"{place.Ja}は{city.Ja}にあります。");
            default:
                var friend = PickOther(rng, WorldLexicon.People, person);
                return ($"{person.En} and {friend.En} are friends.", $"{person.Ja}と{friend.Ja}は友達です。");
        }
    }

    internal static T Pick<T>(Random rng, IReadOnlyList<T> items) => items[rng.Next(items.Count)];

    internal static T PickOther<T>(Random rng, IReadOnlyList<T> items, T not) where T : class
    {
        while (true)
        {
            var item = Pick(rng, items);
            if (!ReferenceEquals(item, not)) return item;
        }
    }
}
