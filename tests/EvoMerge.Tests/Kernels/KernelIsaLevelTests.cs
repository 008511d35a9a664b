using System.Diagnostics;

namespace EvoMerge.Tests.Kernels;

/// <summary>
/// Runs <see cref="KernelTierTests"/> in a child test host with the runtime's instruction-set switches off, so that the
/// kernels' dispatch picks the 256-bit tier (no AVX-512), the 128-bit tier (no AVX2) and the scalar loops (no
/// intrinsics at all), as on AVX2-only x86, on SSE-only x86 and in the runtime's portable mode. The switches are
/// .NET 10's names: <c>DOTNET_EnableAVX512</c> (the older <c>DOTNET_EnableAVX512F</c> is set too and ignored by .NET 10).
/// </summary>
public class KernelIsaLevelTests
{
    /// <summary>Tells the child the widest tier its switches leave (bits; 0 = scalar).</summary>
    public const string TierVariable = "EVOMERGE_KERNEL_TIER_AT_MOST";

    /// <summary>The three child runs start together (each is mostly test-host start-up) and must all pass.</summary>
    [Fact]
    public async Task Kernel_tests_pass_with_each_instruction_set_switched_off()
    {
        var runs = new[] { ("DOTNET_EnableAVX512", 256), ("DOTNET_EnableAVX2", 128), ("DOTNET_EnableHWIntrinsic", 0) }
            .Select(r => RunChild(r.Item1, r.Item2)).ToArray();
        var failures = (await Task.WhenAll(runs)).Where(f => f != null).ToList();
        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
    }

    /// <summary>Runs the kernel tests in a child test host with <paramref name="variable"/>=0; null when they passed, else why not.</summary>
    static async Task<string?> RunChild(string variable, int widestTier)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var psi = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in new[] { "test", typeof(KernelTierTests).Assembly.Location, "--filter", $"FullyQualifiedName~{typeof(KernelTierTests).FullName}", "--nologo" })
            psi.ArgumentList.Add(arg);
        psi.Environment[variable] = "0";
        if (variable == "DOTNET_EnableAVX512") psi.Environment["DOTNET_EnableAVX512F"] = "0";
        psi.Environment[TierVariable] = widestTier.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try { await process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return $"{variable}=0: the child test run did not finish in 3 minutes";
        }
        string output = await stdout + await stderr;
        if (process.ExitCode != 0) return $"{variable}=0: the child test run failed ({process.ExitCode}):\n{output}";
        // A filter that matched nothing would also exit 0: require the class's tests to have run.
        var passed = System.Text.RegularExpressions.Regex.Match(output, @"Passed:\s+(\d+)");
        return passed.Success && int.Parse(passed.Groups[1].Value) >= 10 ? null : $"{variable}=0: the kernel tier tests did not run:\n{output}";
    }
}
