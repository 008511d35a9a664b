namespace EvoMerge.IO.Gguf;

/// <summary>
/// Hugging Face Llama checkpoints order each head's Q/K rows as [first halves of all rotary pairs, second halves]
/// (RoPE by "rotate_half"); llama.cpp's Llama graph rotates adjacent pairs (2i, 2i+1), the original Meta layout.
/// HF→GGUF conversion therefore interleaves the two halves back; this is that permutation.
/// </summary>
public static class RopePermutation
{
    /// <summary>
    /// Reorders the rows of a [heads × headDim, columns] matrix (or a bias when <paramref name="columns"/> is 1):
    /// within each head, HF row <c>half × headDim/2 + i</c> becomes GGUF row <c>2i + half</c>.
    /// </summary>
    public static void HfToInterleaved(Span<float> values, int heads, int columns)
    {
        int rows = values.Length / columns;
        if (rows % (heads * 2) != 0 || rows * columns != values.Length)
            throw new ArgumentException($"{values.Length} values are not {heads} heads × an even head dimension × {columns} columns");
        int headDim = rows / heads;
        int half = headDim / 2;
        float[] source = values.ToArray();
        for (int h = 0; h < heads; h++)
            for (int part = 0; part < 2; part++)
                for (int i = 0; i < half; i++)
                {
                    int from = h * headDim + part * half + i;
                    int to = h * headDim + 2 * i + part;
                    source.AsSpan(from * columns, columns).CopyTo(values.Slice(to * columns, columns));
                }
    }
}
