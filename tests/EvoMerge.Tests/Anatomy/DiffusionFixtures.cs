using System.Text.Json;
using EvoMerge.TestSupport;

namespace EvoMerge.Tests.Anatomy;

/// <summary>
/// Tiny SDXL-base checkpoints with the real tensor names, written by Fixtures/diffusion/diffusion_reference.py from
/// SDXL's public configs (not by EvoMerge): a diffusers pipeline folder and a single-file checkpoint per seed, with
/// labels.json giving each tensor's component, block and part as the script's walk of the architecture knows them.
/// </summary>
public static class DiffusionFixtures
{
    public static string Script => Path.Combine(AppContext.BaseDirectory, "Fixtures", "diffusion", "diffusion_reference.py");

    /// <summary>One labelled tensor: component (unet, text_encoder, text_encoder_2, vae), block (−1 outside the UNet) and part (attn, conv, none).</summary>
    public sealed record Label(string Name, long[] Shape, string Component, int Block, string Part);

    /// <summary>Writes the checkpoints of <paramref name="seed"/> into a fresh folder under <paramref name="root"/>.</summary>
    public static string Write(string root, int seed)
    {
        string folder = Path.Combine(root, $"sdxl-{seed}");
        Directory.CreateDirectory(folder);
        var (code, _, stderr) = PythonReference.Run($"{Script} write {folder} {seed}", TimeSpan.FromMinutes(2));
        Assert.True(code == 0, stderr);
        return folder;
    }

    public static (IReadOnlyList<Label> Pipeline, IReadOnlyList<Label> Single) Labels(string folder)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, "labels.json")));
        List<Label> Read(string layout) => doc.RootElement.GetProperty(layout).EnumerateArray().Select(e => new Label(
            e.GetProperty("name").GetString()!, e.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray(),
            e.GetProperty("component").GetString()!, e.GetProperty("block").GetInt32(), e.GetProperty("part").GetString()!)).ToList();
        return (Read("pipeline"), Read("single"));
    }
}
