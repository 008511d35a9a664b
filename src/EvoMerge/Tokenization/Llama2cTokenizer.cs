using System.Text;
using EvoMerge.IO;

namespace EvoMerge.Tokenization;

/// <summary>
/// llama2.c's tokenizer file (<c>tok512.bin</c>, <c>tokenizer.bin</c>): int32 max piece length, then per piece a
/// float32 merge score, an int32 byte length and the bytes. Encoding is llama2.c's: a dummy leading space,
/// one piece per UTF-8 character (bytes <c>&lt;0xNN&gt;</c> as fallback), then repeatedly merge the adjacent pair
/// whose concatenation is the highest-scoring piece. No maintained .NET library reads this format.
/// </summary>
public sealed class Llama2cTokenizer : ITokenizer
{
    const int ByteFallbackOffset = 3;   // <unk>, <s>, </s>, then <0x00>..<0xFF>
    readonly byte[][] pieces;
    readonly float[] scores;
    readonly Dictionary<string, int> ids;

    Llama2cTokenizer(byte[][] pieces, float[] scores)
    {
        this.pieces = pieces;
        this.scores = scores;
        ids = new Dictionary<string, int>(pieces.Length, StringComparer.Ordinal);
        for (int i = 0; i < pieces.Length; i++) ids.TryAdd(Latin1(pieces[i]), i);
    }

    public int VocabSize => pieces.Length;
    public int? BosId => 1;
    public int? EosId => 2;

    /// <summary>The piece bytes and merge score of token <paramref name="id"/> (GGUF export needs both).</summary>
    public (byte[] Piece, float Score) Piece(int id) => (pieces[id], scores[id]);

    /// <param name="vocabSize">The model's vocabulary size: the file does not store it.</param>
    public static Llama2cTokenizer Load(string path, int vocabSize)
    {
        using var r = new BinaryReader(new MemoryStream(InputFile.ReadAllBytes(path, InputFile.LargeFileBytes, "llama2.c tokenizer")));
        try
        {
            r.ReadInt32();   // max piece length: only llama2.c's C buffers need it
            var pieces = new byte[vocabSize][];
            var scores = new float[vocabSize];
            for (int i = 0; i < vocabSize; i++)
            {
                scores[i] = r.ReadSingle();
                int len = r.ReadInt32();
                if (len < 0 || len > 1 << 16) throw new EvoMergeException($"{path}: piece {i} has length {len}; expected 0..65536 (is this a llama2.c tokenizer?)");
                pieces[i] = r.ReadBytes(len);
            }
            if (r.BaseStream.Position != r.BaseStream.Length)
                throw new EvoMergeException($"{path}: {r.BaseStream.Length - r.BaseStream.Position} bytes left after {vocabSize} pieces; the model's vocab_size does not match this tokenizer");
            return new Llama2cTokenizer(pieces, scores);
        }
        catch (EndOfStreamException)
        {
            throw new EvoMergeException($"{path}: ends before {vocabSize} pieces; the model's vocab_size does not match this tokenizer");
        }
    }

    public IReadOnlyList<int> Encode(string text, bool addBos)
    {
        var tokens = new List<int>();
        if (addBos) tokens.Add(1);
        if (text.Length == 0) return tokens;
        int start = tokens.Count;
        if (ids.TryGetValue(" ", out int space)) tokens.Add(space);   // the dummy prefix, as sentencepiece adds it

        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in text.EnumerateRunes())
        {
            int n = rune.EncodeToUtf8(utf8);
            if (ids.TryGetValue(Latin1(utf8[..n]), out int id)) tokens.Add(id);
            else foreach (byte b in utf8[..n]) tokens.Add(b + ByteFallbackOffset);
        }

        while (true)
        {
            float best = float.NegativeInfinity;
            int bestId = -1, bestAt = -1;
            for (int i = start; i < tokens.Count - 1; i++)
                if (ids.TryGetValue(Latin1(pieces[tokens[i]]) + Latin1(pieces[tokens[i + 1]]), out int merged) && scores[merged] > best)
                    (best, bestId, bestAt) = (scores[merged], merged, i);
            if (bestAt < 0) break;
            tokens[bestAt] = bestId;
            tokens.RemoveAt(bestAt + 1);
        }
        return tokens;
    }

    public string Decode(IReadOnlyList<int> ids)
    {
        var bytes = new List<byte>();
        bool first = true;
        foreach (int id in ids)
        {
            if (id is 1 or 2 || id < 0 || id >= pieces.Length) continue;
            var piece = pieces[id];
            if (IsByteFallback(piece, out byte b)) bytes.Add(b);
            else bytes.AddRange(first && piece.Length > 0 && piece[0] == ' ' ? piece[1..] : piece);   // drop the dummy prefix
            first = false;
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    static bool IsByteFallback(byte[] piece, out byte value)
    {
        value = 0;
        return piece.Length == 6 && piece[0] == '<' && piece[1] == '0' && piece[2] == 'x' && piece[5] == '>'
            && byte.TryParse(Encoding.ASCII.GetString(piece, 3, 2), System.Globalization.NumberStyles.HexNumber, null, out value);
    }

    // Pieces are compared as bytes; Latin-1 maps each byte to one char, so a string key is an exact byte key.
    static string Latin1(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);
}
