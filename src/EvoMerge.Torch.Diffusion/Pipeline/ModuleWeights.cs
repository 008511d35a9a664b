using System.Runtime.InteropServices;
using EvoMerge.IO;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Diffusion.Pipeline;

/// <summary>A module's parameters to and from one safetensors file, by their names; every mismatch names the file and the tensor.</summary>
public static class ModuleWeights
{
    public static void Load(nn.Module module, string file)
    {
        using var source = SafetensorsModel.Open(file);
        var parameters = module.named_parameters().ToList();
        var expected = parameters.Select(p => p.name).ToHashSet();
        var extra = source.Tensors.Select(t => t.Name).Where(n => !expected.Contains(n)).Take(5).ToList();
        if (extra.Count > 0) throw new EvoMergeException($"{file}: unexpected tensors {string.Join(", ", extra)} for this model's config");
        using var _ = no_grad();
        foreach (var (name, p) in parameters)
        {
            if (!source.TryGetInfo(name, out var info)) throw new EvoMergeException($"{file}: tensor '{name}' is missing");
            if (!info.Shape.SequenceEqual(p.shape))
                throw new EvoMergeException($"{file}: tensor '{name}' has shape [{string.Join(", ", info.Shape)}], the config needs [{string.Join(", ", p.shape)}]");
            var values = new float[info.ElementCount];
            source.ReadFloat32(name, values);
            using var t = tensor(values, p.shape, ScalarType.Float32);
            p.copy_(t);
        }
    }

    /// <summary>Writes the parameters as float32 into <paramref name="folder"/>/<paramref name="fileName"/> (the folder is a partial output folder).</summary>
    public static void Save(nn.Module module, string folder, string fileName)
    {
        var parameters = module.named_parameters().ToArray();
        using (var writer = SafetensorsWriter.Create(folder, parameters.Select(p => new TensorSpec(p.name, DType.F32, p.parameter.shape))))
        {
            foreach (var (name, p) in parameters)
            {
                using var scope = NewDisposeScope();
                var values = p.detach().to_type(ScalarType.Float32).cpu().contiguous();
                writer.WriteFloat32(name, MemoryMarshal.Cast<byte, float>(values.bytes));
            }
            writer.Complete();
        }
        if (fileName != SafetensorsModel.SingleFileName)
            File.Move(Path.Combine(folder, SafetensorsModel.SingleFileName), Path.Combine(folder, fileName));
    }

    /// <summary>A copy of every parameter's values, by name (float32, on the CPU).</summary>
    public static Dictionary<string, Tensor> Snapshot(nn.Module module)
    {
        using var _ = no_grad();
        return module.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().to_type(ScalarType.Float32).cpu().clone());
    }

    /// <summary>Sets every parameter from <paramref name="values"/> (same names and shapes) in place.</summary>
    public static void Assign(nn.Module module, IReadOnlyDictionary<string, Tensor> values)
    {
        using var _ = no_grad();
        foreach (var (name, p) in module.named_parameters())
            p.copy_(values.TryGetValue(name, out var v) ? v : throw new EvoMergeException($"no value for tensor '{name}'"));
    }
}
