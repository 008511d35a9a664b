using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using System.Text;

namespace EvoMerge.Torch;

/// <summary>
/// Caps oneDNN (libtorch's CPU convolution library) at AVX2 on AMD processors with AVX-512, before any convolution
/// runs. On an AMD EPYC (Zen 5) machine, libtorch 2.10's oneDNN AVX-512 convolutions gave wrong results: the diffusion
/// UNet's forward differed from a PyTorch float64 reference by 0.157–0.287 (largest value 2.49), differently from run
/// to run; capped at AVX2 (or SSE4.1) it matched within tolerance every time (docs/diffusion.md). The same forward is
/// right on Intel, which is left alone. A user's own <c>ONEDNN_MAX_CPU_ISA</c> always wins.
/// </summary>
static class OneDnnIsaGuard
{
    public const string Variable = "ONEDNN_MAX_CPU_ISA";

#pragma warning disable CA2255 // a library initializer on purpose: it must run before the first convolution, whichever type of this assembly is touched first
    [ModuleInitializer]
    internal static void Apply()
    {
        if (!Avx512F.IsSupported || Vendor() != "AuthenticAMD") return;
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable(Variable))) return;
        // oneDNN reads the process environment through getenv when it first picks a kernel; .NET's
        // Environment.SetEnvironmentVariable does not reach that environment on Unix, libc's setenv does.
        Environment.SetEnvironmentVariable(Variable, "AVX2");
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return;
        try { setenv(Variable, "AVX2", 0); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Without libc's setenv the cap cannot reach oneDNN; say so once rather than fail every Torch user.
            Console.Error.WriteLine($"warning: could not set {Variable}=AVX2 ({e.Message}); set it yourself on this AMD CPU (docs/diffusion.md)");
        }
    }
#pragma warning restore CA2255

    /// <summary>The CPUID vendor string (leaf 0: EBX, EDX, ECX), e.g. GenuineIntel or AuthenticAMD.</summary>
    static string Vendor()
    {
        if (!X86Base.IsSupported) return "";
        var (_, ebx, ecx, edx) = X86Base.CpuId(0, 0);
        var bytes = new byte[12];
        BitConverter.TryWriteBytes(bytes.AsSpan(0), ebx);
        BitConverter.TryWriteBytes(bytes.AsSpan(4), edx);
        BitConverter.TryWriteBytes(bytes.AsSpan(8), ecx);
        return Encoding.ASCII.GetString(bytes);
    }

    [DllImport("libc", EntryPoint = "setenv")]
    static extern int setenv(string name, string value, int overwrite);
}
