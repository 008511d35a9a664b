namespace EvoMerge.IO.Gguf;

/// <summary>
/// Which ggml type each tensor gets, following the rules llama.cpp's <c>quantize</c> applies for a file type,
/// so that an EvoMerge Q4_K_M holds the same mix as the Q4_K_M files Ollama users pull:
/// <list type="bullet">
/// <item>1-D tensors (norms, biases) stay F32;</item>
/// <item>the output head (or the token embedding when the head is tied to it) gets Q6_K in every quantized type
/// but Q8_0, and Q8_0 when its rows are not whole blocks of the base type;</item>
/// <item>in Q4_K_M and Q5_K_M, <c>attn_v</c> and <c>ffn_down</c> get Q6_K in the layers llama.cpp's
/// <c>use_more_bits</c> picks: the first and last eighth of the layers and every third layer between;</item>
/// <item>rows that are not whole blocks fall back as llama.cpp does: Q4_K → Q5_0, Q5_K → Q5_1, Q6_K → Q8_0, and
/// to F16 when even that does not fit (llama.cpp stops there for Q4_0 and Q8_0; F16 is what its converter writes).</item>
/// </list>
/// </summary>
public static class GgufTypeMix
{
    /// <summary>The storage type of GGUF tensor <paramref name="ggufName"/> with PyTorch shape <paramref name="shape"/>
    /// in a file of <paramref name="type"/> with <paramref name="layerCount"/> blocks; <paramref name="hasOutput"/>
    /// tells whether the file has its own <c>output.weight</c>.</summary>
    public static GgufTensorType Choose(GgufOutputType type, string ggufName, long[] shape, int layerCount, bool hasOutput)
    {
        if (shape.Length <= 1) return GgufTensorType.F32;
        var baseType = type.MatrixType();
        if (!GgufEncoding.IsQuantized(baseType)) return baseType;
        long row = shape[^1];
        var chosen = baseType;
        if (ggufName == "output.weight" || (!hasOutput && ggufName == "token_embd.weight"))
        {
            if (row % GgufEncoding.Block(baseType).Elements != 0) chosen = GgufTensorType.Q8_0;
            else if (baseType != GgufTensorType.Q8_0) chosen = GgufTensorType.Q6_K;
        }
        else if (type is GgufOutputType.Q4_K_M or GgufOutputType.Q5_K_M
                 && (ggufName.EndsWith(".attn_v.weight", StringComparison.Ordinal) || ggufName.EndsWith(".ffn_down.weight", StringComparison.Ordinal))
                 && UseMoreBits(Layer(ggufName), layerCount))
            chosen = GgufTensorType.Q6_K;
        if (GgufEncoding.Supports(chosen, row)) return chosen;
        chosen = chosen switch
        {
            GgufTensorType.Q4_K => GgufTensorType.Q5_0,
            GgufTensorType.Q5_K => GgufTensorType.Q5_1,
            GgufTensorType.Q6_K => GgufTensorType.Q8_0,
            _ => GgufTensorType.F16,
        };
        return GgufEncoding.Supports(chosen, row) ? chosen : GgufTensorType.F16;
    }

    /// <summary>llama.cpp's choice of layers that get more bits: the first and last eighth, and every third between.</summary>
    public static bool UseMoreBits(int layer, int layerCount) =>
        layer < layerCount / 8 || layer >= 7 * layerCount / 8 || (layer - layerCount / 8) % 3 == 2;

    static int Layer(string ggufName) => int.Parse(ggufName.AsSpan(4, ggufName.IndexOf('.', 4) - 4), System.Globalization.CultureInfo.InvariantCulture);
}
