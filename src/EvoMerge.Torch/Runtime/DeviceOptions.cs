using TorchSharp;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Runtime;

/// <summary>Parses the <c>--device</c> and <c>--dtype</c> choices of the command line.</summary>
public static class DeviceOptions
{
    /// <summary><c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>; CUDA only where the installed libtorch has it.</summary>
    public static Device ParseDevice(string name)
    {
        string n = name.Trim().ToLowerInvariant();
        if (n == "cpu") return CPU;
        if (n == "cuda" || n.StartsWith("cuda:"))
        {
            if (!cuda.is_available())
                throw new EvoMergeException($"device '{name}': CUDA is not available (this libtorch is CPU-only or no GPU is visible); use --device cpu");
            return new Device(n);
        }
        throw new EvoMergeException($"device '{name}': expected cpu, cuda or cuda:N");
    }

    /// <summary><c>f32</c>/<c>float32</c> or <c>bf16</c>/<c>bfloat16</c>. float16 is refused: it is unusably slow on CPUs.</summary>
    public static ScalarType ParseDType(string name) => UserChoices.DType(name, "--dtype") switch
    {
        EvoMerge.IO.DType.F32 => ScalarType.Float32,
        EvoMerge.IO.DType.BF16 => ScalarType.BFloat16,
        _ => throw new EvoMergeException($"--dtype: '{name}' is not supported here; expected f32 or bf16"),
    };

    /// <summary>Sets libtorch's intra-op threads (default: all cores); call once before heavy work.</summary>
    public static void UseThreads(int? threads = null) =>
        torch.set_num_threads(threads ?? Environment.ProcessorCount);
}
