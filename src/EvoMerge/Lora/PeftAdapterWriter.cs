using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EvoMerge.IO;

namespace EvoMerge.Lora;

/// <summary>
/// Writes a <see cref="LoraAdapter"/> as a PEFT LoRA adapter folder: <c>adapter_config.json</c>,
/// <c>adapter_model.safetensors</c> (keys <c>base_model.model.&lt;module&gt;.lora_A.weight</c> [r, in] and
/// <c>….lora_B.weight</c> [out, r]; saved modules as <c>base_model.model.&lt;tensor&gt;</c>) and a README.md.
/// lora_alpha equals r for every module (per-module ranks go to rank_pattern and alpha_pattern alike), so PEFT's
/// scaling alpha / r is 1 and the folded weight is base + B·A. The folder appears whole or not at all.
/// </summary>
public static class PeftAdapterWriter
{
    public const string ConfigFileName = PeftFormat.ConfigFileName;
    public const string WeightsFileName = PeftFormat.WeightsFileName;

    /// <param name="baseModelName">What the config names as base_model_name_or_path (as the user gave it).</param>
    public static void Write(LoraAdapter adapter, ModelFolder fineTune, string baseModelName, string outputFolder)
    {
        var dtypeOf = (TensorInfo t) => adapter.Options.OutDType ?? (t.DType is DType.F32 or DType.F16 or DType.BF16 ? t.DType : DType.F32);
        var specs = new List<TensorSpec>();
        foreach (var m in adapter.Modules)
        {
            var dtype = dtypeOf(fineTune.Weights.GetInfo(m.WeightName));
            specs.Add(new TensorSpec(PeftFormat.LoraAKey(m.Name), dtype, [m.Rank, m.Cols]));
            specs.Add(new TensorSpec(PeftFormat.LoraBKey(m.Name), dtype, [m.Rows, m.Rank]));
        }
        foreach (var name in adapter.SavedTensors)
        {
            var info = fineTune.Weights.GetInfo(name);
            specs.Add(new TensorSpec(PeftFormat.SavedKey(name), dtypeOf(info), info.Shape));
        }
        OutputFolder.Write(outputFolder, partial =>
        {
            using (var writer = SafetensorsWriter.Create(partial, specs, long.MaxValue, new Dictionary<string, string> { ["extracted_by"] = "evomerge" }))
            {
                foreach (var m in adapter.Modules)
                {
                    writer.WriteFloat32(PeftFormat.LoraAKey(m.Name), m.A);
                    writer.WriteFloat32(PeftFormat.LoraBKey(m.Name), m.B);
                }
                foreach (var name in adapter.SavedTensors) CopyTensor(fineTune, name, writer);
                writer.Complete();
            }
            File.Move(Path.Combine(partial, SafetensorsModel.SingleFileName), Path.Combine(partial, WeightsFileName));
            File.WriteAllText(Path.Combine(partial, ConfigFileName), Config(adapter, fineTune, baseModelName).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            File.WriteAllText(Path.Combine(partial, "README.md"), Card(adapter, baseModelName));
        });
    }

    static void CopyTensor(ModelFolder fineTune, string name, SafetensorsWriter writer)
    {
        var info = fineTune.Weights.GetInfo(name);
        const int chunk = 1 << 20;
        var values = new float[Math.Min(chunk, info.ElementCount)];
        int size = info.DType.ElementSize();
        for (long start = 0; start < info.ElementCount; start += chunk)
        {
            int count = (int)Math.Min(chunk, info.ElementCount - start);
            FloatConversion.ToFloat32(fineTune.Weights.GetBytes(info, start * size, count * size), info.DType, values.AsSpan(0, count));
            writer.WriteFloat32(PeftFormat.SavedKey(name), values.AsSpan(0, count), start);
        }
    }

    static JsonObject Config(LoraAdapter adapter, ModelFolder fineTune, string baseModelName)
    {
        int r = adapter.Options.Rank;
        var ranks = new JsonObject();
        var alphas = new JsonObject();
        foreach (var m in adapter.Modules.Where(m => m.Rank != r))
        {
            ranks[m.Name] = m.Rank;
            alphas[m.Name] = m.Rank;
        }
        string? architecture = fineTune.Config?.Architecture;
        return new JsonObject
        {
            ["peft_type"] = "LORA",
            ["task_type"] = architecture?.EndsWith("ForCausalLM", StringComparison.Ordinal) == true ? "CAUSAL_LM" : null,
            ["base_model_name_or_path"] = baseModelName,
            ["r"] = r,
            ["lora_alpha"] = r,
            ["lora_dropout"] = 0.0,
            ["bias"] = "none",
            ["fan_in_fan_out"] = false,
            ["target_modules"] = new JsonArray(adapter.TargetModules.Select(t => (JsonNode)JsonValue.Create(t)).ToArray()),
            ["rank_pattern"] = ranks,
            ["alpha_pattern"] = alphas,
            ["modules_to_save"] = adapter.SaveModules.Count == 0 ? null : new JsonArray(adapter.SaveModules.Select(s => (JsonNode)JsonValue.Create(s)).ToArray()),
            ["init_lora_weights"] = true,
            ["inference_mode"] = true,
            ["use_rslora"] = false,
            ["use_dora"] = false,
            ["layers_to_transform"] = null,
            ["layers_pattern"] = null,
            ["revision"] = null,
        };
    }

    static string Card(LoraAdapter adapter, string baseModelName)
    {
        var o = adapter.Options;
        var card = new StringBuilder();
        card.AppendLine("---").AppendLine("library_name: peft").AppendLine(CultureInfo.InvariantCulture, $"base_model: {baseModelName}").AppendLine("tags:").AppendLine("- lora").AppendLine("- evomerge").AppendLine("---");
        card.AppendLine("# LoRA adapter extracted by EvoMerge").AppendLine();
        card.AppendLine(CultureInfo.InvariantCulture, $"`evomerge extract-lora`: rank {o.Rank}{(o.SvEpsilon is { } e ? $" (per module: singular values above {e} of the largest)" : "")}, " +
            $"randomised SVD with {o.Oversample} oversampling columns and {o.PowerIterations} power iterations, seed {o.Seed}.").AppendLine();
        double worst = adapter.Modules.Max(m => m.RelativeError);
        double mean = adapter.Modules.Average(m => m.RelativeError);
        card.AppendLine(CultureInfo.InvariantCulture, $"{adapter.Modules.Count} modules factored; relative Frobenius error of the difference: mean {mean:0.####}, worst {worst:0.####}.");
        if (adapter.SavedTensors.Count > 0) card.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"Kept whole (modules_to_save): {string.Join(", ", adapter.SaveModules)}.");
        return card.ToString();
    }
}
