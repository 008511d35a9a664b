using System.Runtime.InteropServices;
using EvoMerge.Torch.Model;

namespace EvoMerge.Torch.Tests.Diffusion;

/// <summary>
/// The oneDNN cap reaches the native environment (what oneDNN's getenv sees) exactly on AMD processors with AVX-512,
/// read independently from /proc/cpuinfo rather than through the guard's own CPUID check.
/// </summary>
public class OneDnnIsaGuardTests
{
    [DllImport("libc")]
    static extern IntPtr getenv(string name);

    [Fact]
    public void OneDnn_is_capped_at_AVX2_on_AMD_with_AVX512_and_left_alone_elsewhere()
    {
        if (!File.Exists("/proc/cpuinfo")) return;   // Linux only: elsewhere there is nothing independent to read
        using var norm = Norms.Layer(4, 1e-5, null, TorchSharp.torch.ScalarType.Float32);   // loads EvoMerge.Torch, whose initializer runs first
        var cpu = File.ReadLines("/proc/cpuinfo").TakeWhile(l => l.Length > 0).ToList();
        bool amd = cpu.Any(l => l.StartsWith("vendor_id") && l.EndsWith("AuthenticAMD"));
        bool avx512 = cpu.Any(l => l.StartsWith("flags") && l.Split(' ').Contains("avx512f"));
        string? native = Marshal.PtrToStringAnsi(getenv("ONEDNN_MAX_CPU_ISA"));
        if (amd && avx512) Assert.Equal("AVX2", native);
        else Assert.Null(native);
    }
}
