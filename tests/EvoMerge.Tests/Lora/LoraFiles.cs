using System.Text.Json.Nodes;
using EvoMerge.IO;
using EvoMerge.Lora;

namespace EvoMerge.Tests.Lora;

/// <summary>Writes LoRA files for tests: kohya .safetensors files and PEFT adapter folders, with seeded Gaussian factors.</summary>
static class LoraFiles
{
    public static float[] Gaussian(Random rng, long count, double scale)
    {
        var values = new float[count];
        for (long i = 0; i < count; i++)
            values[i] = (float)(scale * Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        return values;
    }

    /// <summary>A safetensors file at <paramref name="path"/> holding <paramref name="tensors"/> (float32, or <paramref name="dtype"/>).</summary>
    public static void WriteSafetensors(string path, IReadOnlyList<(string Name, long[] Shape, float[] Values)> tensors, DType dtype = DType.F32)
    {
        string folder = path + ".partial";
        using (var writer = SafetensorsWriter.Create(folder, tensors.Select(t => new TensorSpec(t.Name, dtype, t.Shape))))
        {
            foreach (var t in tensors) writer.WriteFloat32(t.Name, t.Values);
            writer.Complete();
        }
        File.Move(Path.Combine(folder, SafetensorsModel.SingleFileName), path, overwrite: true);
        Directory.Delete(folder, recursive: true);
    }

    /// <summary>A PEFT adapter folder: <paramref name="tensors"/> under their keys, and <paramref name="config"/> as adapter_config.json.</summary>
    public static string WritePeft(string folder, JsonObject config, IReadOnlyList<(string Name, long[] Shape, float[] Values)> tensors)
    {
        Directory.CreateDirectory(folder);
        WriteSafetensors(Path.Combine(folder, PeftFormat.WeightsFileName), tensors);
        File.WriteAllText(Path.Combine(folder, PeftFormat.ConfigFileName), config.ToJsonString());
        return folder;
    }
}
