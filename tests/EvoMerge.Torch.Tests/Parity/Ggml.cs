using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EvoMerge.IO.Gguf;

namespace EvoMerge.Torch.Tests.Parity;

/// <summary>
/// ggml's own quantizers, dequantizers and GGUF reader, called in the libggml-base that LLamaSharp loaded: the
/// independent reference for block layouts and for which type each tensor of a file has.
/// </summary>
public static class Ggml
{
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] delegate IntPtr TypeTraits(int type);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] delegate void ToFloat(byte[] x, float[] y, long k);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] delegate nuint QuantizeChunk(int type, float[] src, byte[] dst, long start, long rows, long perRow, IntPtr imatrix);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] delegate IntPtr GgufInit([MarshalAs(UnmanagedType.LPUTF8Str)] string path, GgufInitParams p);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] delegate long GgufCount(IntPtr ctx);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] delegate IntPtr GgufName(IntPtr ctx, long id);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] delegate int GgufType(IntPtr ctx, long id);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] delegate long GgufFindKey(IntPtr ctx, [MarshalAs(UnmanagedType.LPUTF8Str)] string key);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] delegate uint GgufU32(IntPtr ctx, long id);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] delegate void GgufFree(IntPtr ctx);

    [StructLayout(LayoutKind.Sequential)]
    struct GgufInitParams
    {
        public byte NoAlloc;
        public IntPtr Context;
    }

    static readonly Lazy<IntPtr> Library = new(() =>
    {
        // Loading libllama (through LlamaCpp's static constructor) maps the libggml-base of the backend LLamaSharp chose.
        RuntimeHelpers.RunClassConstructor(typeof(LlamaCpp).TypeHandle);
        LLama.Native.NativeApi.llama_max_devices();
        string path = File.ReadLines("/proc/self/maps").Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(p => p.Length >= 6 && p[5].EndsWith("libggml-base.so", StringComparison.Ordinal)).Select(p => p[5]).FirstOrDefault()
            ?? throw new InvalidOperationException("libggml-base.so is not loaded");
        return NativeLibrary.Load(path);
    });

    static T Fn<T>(string name) where T : Delegate => Marshal.GetDelegateForFunctionPointer<T>(NativeLibrary.GetExport(Library.Value, name));

    /// <summary>ggml's <c>to_float</c> of <paramref name="type"/>, after checking the traits are the ones the GGUF spec lists.</summary>
    public static float[] Dequantize(GgufTensorType type, byte[] blocks, int count)
    {
        IntPtr traits = Fn<TypeTraits>("ggml_get_type_traits")((int)type);
        var (elements, bytes) = GgufEncoding.Block(type);
        // struct ggml_type_traits: type_name, blck_size, blck_size_interleave, type_size, is_quantized, to_float, from_float_ref.
        Assert.Equal(elements, Marshal.ReadInt64(traits, 8));
        Assert.Equal(bytes, Marshal.ReadInt64(traits, 24));
        var toFloat = Marshal.GetDelegateForFunctionPointer<ToFloat>(Marshal.ReadIntPtr(traits, 40));
        var y = new float[count];
        toFloat(blocks, y, count);
        return y;
    }

    /// <summary>ggml's own quantization (no importance matrix, as llama-quantize without --imatrix).</summary>
    public static byte[] Quantize(GgufTensorType type, float[] x, int rowLength)
    {
        var dst = new byte[GgufEncoding.ByteCount(type, x.Length)];
        nuint written = Fn<QuantizeChunk>("ggml_quantize_chunk")((int)type, x, dst, 0, x.Length / rowLength, rowLength, IntPtr.Zero);
        Assert.Equal((nuint)dst.Length, written);
        return dst;
    }

    /// <summary>Each tensor's ggml type as llama.cpp's GGUF reader sees the file, and the u32 metadata asked for.</summary>
    public static (Dictionary<string, GgufTensorType> Types, Dictionary<string, uint?> Values) ReadFile(string path, params string[] u32Keys)
    {
        IntPtr ctx = Fn<GgufInit>("gguf_init_from_file")(path, new GgufInitParams { NoAlloc = 1 });
        if (ctx == IntPtr.Zero) throw new InvalidOperationException($"ggml cannot read {path}");
        try
        {
            var types = new Dictionary<string, GgufTensorType>();
            for (long i = 0; i < Fn<GgufCount>("gguf_get_n_tensors")(ctx); i++)
                types[Marshal.PtrToStringUTF8(Fn<GgufName>("gguf_get_tensor_name")(ctx, i))!] = (GgufTensorType)Fn<GgufType>("gguf_get_tensor_type")(ctx, i);
            var values = new Dictionary<string, uint?>();
            foreach (string key in u32Keys)
            {
                long id = Fn<GgufFindKey>("gguf_find_key")(ctx, key);
                values[key] = id < 0 ? null : Fn<GgufU32>("gguf_get_val_u32")(ctx, id);
            }
            return (types, values);
        }
        finally { Fn<GgufFree>("gguf_free")(ctx); }
    }
}
