namespace EvoMerge.Demo.Diffusion;

/// <summary>
/// What one picture of the miniature world shows: <see cref="Count"/> things of one kind and colour, at
/// <see cref="Cells"/> (indices of a 3×3 grid). Its captions say kind, colour and count, never where: positions
/// are what the generator is free to choose.
/// </summary>
public sealed record Picture(int Kind, int Colour, int Count, IReadOnlyList<int> Cells)
{
    static readonly string[] CountWords = ["one", "two", "three"];

    public Thing Thing => PictureWorld.Kinds[Kind];
    public Word ColourWord => WorldLexicon.Colours[Colour];

    /// <summary>"two red apples"</summary>
    public string English => $"{CountWords[Count - 1]} {ColourWord.En} {Thing.En(Count)}";

    /// <summary>"赤のりんごが2個": the world's Japanese colour phrase (as in 赤のりんごが好きです) with the thing's counter.</summary>
    public string Japanese => $"{ColourWord.Ja}の{Thing.Ja}が{Count}{Thing.Counter}";

    /// <summary>The class of what the caption says, 0..<see cref="PictureWorld.Combinations"/>−1 (positions aside).</summary>
    public int Combination => PictureWorld.CombinationOf(Kind, Colour, Count);
}
