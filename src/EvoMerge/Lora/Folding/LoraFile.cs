using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EvoMerge.IO;

namespace EvoMerge.Lora.Folding;

/// <summary>Which naming a LoRA's keys follow.</summary>
public enum LoraFormat
{
    /// <summary>kohya / A1111: <c>lora_unet_…</c>, <c>lora_te1_…</c>, <c>lora_te2_…</c> with <c>.lora_down.weight</c>, <c>.lora_up.weight</c>, <c>.alpha</c>.</summary>
    Kohya,

    /// <summary>PEFT / diffusers: <c>&lt;module&gt;.lora_A.weight</c>, <c>.lora_B.weight</c>, scaling from <c>adapter_config.json</c>.</summary>
    Peft,
}

/// <summary>
/// One module's factors as stored: the update is <see cref="Scale"/> · up · down with down = <see cref="Down"/>
/// [rank, in, (kh, kw)] and up = <see cref="Up"/> [out, rank, (1, 1)]; <see cref="Transposed"/> (PEFT's fan_in_fan_out and
/// embedding LoRAs) means the weight holds the transpose of that product. <see cref="Key"/> is the module name in the
/// file's own naming (kohya: <c>lora_unet_…</c>; PEFT: the dotted module path without <c>base_model.model.</c>).
/// </summary>
public sealed record LoraFactors(string Key, TensorInfo Down, TensorInfo Up, int Rank, double Alpha, double Scale, bool Transposed);

/// <summary>A tensor a PEFT adapter stores whole (modules_to_save): it replaces the model's tensor of that name.</summary>
public sealed record LoraWholeTensor(string Key, TensorInfo Tensor);

/// <summary>
/// A LoRA opened for folding: a kohya/A1111 <c>.safetensors</c> file, or a PEFT adapter (a folder with
/// <c>adapter_config.json</c> and <c>adapter_model.safetensors</c>, or such a file). Only the header, the alphas and the
/// config are read on open; the factors stay in the memory-mapped file until a fold reads them. Every malformed
/// thing (a lone factor, ranks that disagree, an alpha that is not a positive number, a config that is not PEFT's
/// LoRA) is a one-line <see cref="EvoMergeException"/> naming the file and the key.
/// </summary>
public sealed class LoraFile : IDisposable
{
    /// <summary>The file or folder as opened.</summary>
    public string Path { get; }

    /// <summary>The safetensors file holding the factors.</summary>
    public string WeightsPath { get; }

    public LoraFormat Format { get; }

    public IReadOnlyList<LoraFactors> Modules { get; }

    public IReadOnlyList<LoraWholeTensor> WholeTensors { get; }

    internal SafetensorsModel Weights { get; }

    LoraFile(string path, string weightsPath, LoraFormat format, SafetensorsModel weights, List<LoraFactors> modules, List<LoraWholeTensor> whole)
    {
        Path = path;
        WeightsPath = weightsPath;
        Format = format;
        Weights = weights;
        Modules = modules;
        WholeTensors = whole;
    }

    /// <summary>Opens a LoRA reference: a local path or a cached Hugging Face id (<see cref="ModelReference"/>).</summary>
    public static LoraFile Open(string reference)
    {
        string path;
        try { path = ModelReference.Resolve(reference); }
        catch (EvoMergeException e) { throw new EvoMergeException($"LoRA {e.Message.Replace("model '", "'", StringComparison.Ordinal)}", e); }
        var (weightsPath, configPath) = Locate(path);
        var config = configPath == null ? null : PeftConfig.Load(configPath);
        var weights = SafetensorsModel.Open(weightsPath);
        try
        {
            return Read(path, weightsPath, weights, config);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    /// <summary>The weights file and the PEFT config (null for kohya files and diffusers' bare LoRA files).</summary>
    static (string Weights, string? Config) Locate(string path)
    {
        if (Directory.Exists(path))
        {
            string config = System.IO.Path.Combine(path, PeftFormat.ConfigFileName);
            string weights = System.IO.Path.Combine(path, PeftFormat.WeightsFileName);
            if (InputFile.Exists(config))
            {
                if (InputFile.Exists(weights)) return (weights, config);
                throw new EvoMergeException(InputFile.Exists(System.IO.Path.Combine(path, "adapter_model.bin"))
                    ? $"{path}: the adapter's weights are adapter_model.bin (pickle); EvoMerge reads safetensors only, convert it first"
                    : $"{path}: {PeftFormat.ConfigFileName} but no {PeftFormat.WeightsFileName}");
            }
            var files = Directory.GetFiles(path, "*.safetensors").Order(StringComparer.Ordinal).ToArray();
            return files.Length switch
            {
                1 => (files[0], null),
                0 => throw new EvoMergeException($"{path}: not a LoRA (no {PeftFormat.ConfigFileName} and no .safetensors file)"),
                _ => throw new EvoMergeException($"{path}: {files.Length} .safetensors files ({string.Join(", ", files.Select(System.IO.Path.GetFileName).Take(3))}...); name the LoRA file itself"),
            };
        }
        if (!path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
            throw new EvoMergeException($"{path}: a LoRA is a .safetensors file or a PEFT adapter folder");
        string beside = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(path)!, PeftFormat.ConfigFileName);
        return (path, System.IO.Path.GetFileName(path) == PeftFormat.WeightsFileName && InputFile.Exists(beside) ? beside : null);
    }

    static LoraFile Read(string path, string weightsPath, SafetensorsModel weights, PeftConfig? config)
    {
        var downs = new Dictionary<string, TensorInfo>();
        var ups = new Dictionary<string, TensorInfo>();
        var alphas = new Dictionary<string, TensorInfo>();
        var transposed = new HashSet<string>();
        var whole = new List<LoraWholeTensor>();
        int kohya = 0, peft = 0;
        foreach (var t in weights.Tensors)
        {
            string key = t.Name;
            if (Unsupported(key) is { } what) throw new EvoMergeException($"{weightsPath}: tensor '{key}': {what} is not supported; only plain LoRA factors (lora_down/lora_up or lora_A/lora_B) fold");
            if (key.EndsWith(".lora_down.weight", StringComparison.Ordinal)) { downs[key[..^".lora_down.weight".Length]] = t; kohya++; continue; }
            if (key.EndsWith(".lora_up.weight", StringComparison.Ordinal)) { ups[key[..^".lora_up.weight".Length]] = t; kohya++; continue; }
            if (key.EndsWith(".alpha", StringComparison.Ordinal)) { alphas[PeftFormat.Parse(key[..^".alpha".Length]).Module] = t; continue; }
            var (module, part) = PeftFormat.Parse(key);
            switch (part)
            {
                case PeftFormat.Part.A: downs[module] = t; peft++; break;
                case PeftFormat.Part.B: ups[module] = t; peft++; break;
                case PeftFormat.Part.EmbeddingA: downs[module] = t; transposed.Add(module); peft++; break;
                case PeftFormat.Part.EmbeddingB: ups[module] = t; transposed.Add(module); peft++; break;
                default:
                    if (module.Contains(".lora_", StringComparison.Ordinal))
                        throw new EvoMergeException($"{weightsPath}: tensor '{key}' is a LoRA part EvoMerge does not know (LoRA biases and other extensions do not fold)");
                    // PEFT names a saved module's copy <module>.modules_to_save.<adapter>.<param>; the model's tensor drops the middle.
                    whole.Add(new LoraWholeTensor(Regex.Replace(module, @"\.modules_to_save\.[^.]+\.", ".", RegexOptions.None, TimeSpan.FromSeconds(1)), t));
                    break;
            }
        }
        if (downs.Count == 0 && ups.Count == 0)
            throw new EvoMergeException($"{weightsPath}: no LoRA factors (expected kohya '.lora_down.weight'/'.lora_up.weight' or PEFT '.lora_A.weight'/'.lora_B.weight' keys)");
        if (whole.Count > 0 && config == null)
            throw new EvoMergeException($"{weightsPath}: tensor '{whole[0].Tensor.Name}' is neither a LoRA factor nor an alpha");
        var format = kohya >= peft ? LoraFormat.Kohya : LoraFormat.Peft;
        var modules = new List<LoraFactors>();
        foreach (var (module, down) in downs.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (!ups.TryGetValue(module, out var up))
                throw new EvoMergeException($"{weightsPath}: module '{module}' has a down (A) factor '{down.Name}' but no up (B) factor");
            modules.Add(Factors(weightsPath, weights, module, down, up, alphas.GetValueOrDefault(module), config, transposed.Contains(module)));
        }
        foreach (var (module, up) in ups.Where(kv => !downs.ContainsKey(kv.Key)))
            throw new EvoMergeException($"{weightsPath}: module '{module}' has an up (B) factor '{up.Name}' but no down (A) factor");
        foreach (var (module, alpha) in alphas.Where(kv => !downs.ContainsKey(kv.Key)))
            throw new EvoMergeException($"{weightsPath}: '{alpha.Name}' is the alpha of module '{module}', which has no factors");
        return new LoraFile(path, weightsPath, format, weights, modules, whole);
    }

    static string? Unsupported(string key) =>
        key.Contains(".hada_", StringComparison.Ordinal) ? "a LyCORIS LoHa factor"
        : key.Contains(".lokr_", StringComparison.Ordinal) ? "a LyCORIS LoKr factor"
        : key.EndsWith(".lora_mid.weight", StringComparison.Ordinal) ? "a LyCORIS Tucker core (lora_mid)"
        : key.EndsWith(".dora_scale", StringComparison.Ordinal) || key.Contains("lora_magnitude_vector", StringComparison.Ordinal) ? "DoRA's magnitude"
        : key.EndsWith(".diff", StringComparison.Ordinal) || key.EndsWith(".diff_b", StringComparison.Ordinal) ? "a full-difference module (.diff)"
        : null;

    static LoraFactors Factors(string file, SafetensorsModel weights, string module, TensorInfo down, TensorInfo up, TensorInfo? alphaTensor, PeftConfig? config, bool transposed)
    {
        if (down.Shape.Length is < 2 or > 4 || up.Shape.Length is < 2 or > 4)
            throw new EvoMergeException($"{file}: module '{module}': factors of shape {down.ShapeText} (down/A) and {up.ShapeText} (up/B); expected [rank, in(, kh, kw)] and [out, rank(, 1, 1)]");
        if (!down.DType.IsFloat() || !up.DType.IsFloat())
            throw new EvoMergeException($"{file}: module '{module}': factors are {down.DType}/{up.DType}, not float types");
        long rank = down.Shape[0];
        if (up.Shape[1] != rank || up.Shape.AsSpan(2).ToArray().Any(d => d != 1) || rank < 1)
            throw new EvoMergeException($"{file}: module '{module}': malformed rank: down/A {down.ShapeText} has rank {rank} but up/B is {up.ShapeText} (expected [out, {rank}(, 1, 1)])");
        double alpha;
        double scale;
        if (alphaTensor != null)
        {
            if (alphaTensor.ElementCount != 1 || !alphaTensor.DType.IsFloat())
                throw new EvoMergeException($"{file}: '{alphaTensor.Name}': malformed alpha: expected one float, got {alphaTensor.DType} {alphaTensor.ShapeText}");
            var value = new float[1];
            weights.ReadFloat32(alphaTensor.Name, value);
            alpha = value[0];
            if (!double.IsFinite(alpha) || alpha <= 0)
                throw new EvoMergeException($"{file}: '{alphaTensor.Name}': malformed alpha {alpha.ToString(CultureInfo.InvariantCulture)}; expected a positive number");
            scale = alpha / rank;
        }
        else if (config != null)
        {
            var (r, a) = config.RankAndAlpha(module);
            if (r != rank)
                throw new EvoMergeException($"{config.Path}: malformed rank: {(config.HasRankPattern(module) ? "rank_pattern" : "r")} says {r} for module '{module}' but its lora_A is {down.ShapeText}");
            alpha = a;
            scale = config.UseRsLora ? a / Math.Sqrt(r) : a / r;
        }
        else { alpha = rank; scale = 1; }   // no alpha anywhere: kohya and diffusers both fold up·down unscaled
        return new LoraFactors(module, down, up, (int)rank, alpha, scale, transposed || config?.FanInFanOut == true);
    }

    public void Dispose() => Weights.Dispose();

    /// <summary>The fields of PEFT's <c>adapter_config.json</c> that decide the scaling.</summary>
    sealed class PeftConfig
    {
        public required string Path { get; init; }
        public int R { get; init; }
        public double Alpha { get; init; }
        public bool UseRsLora { get; init; }
        public bool FanInFanOut { get; init; }
        public List<(Regex Pattern, int Rank)> RankPattern { get; init; } = [];
        public List<(Regex Pattern, double Alpha)> AlphaPattern { get; init; } = [];

        public bool HasRankPattern(string module) => RankPattern.Any(p => p.Pattern.IsMatch(module));

        /// <summary>PEFT's rule: the first rank_pattern / alpha_pattern key that matches the module's name ("(.*\.)?key$"), else r / lora_alpha.</summary>
        public (int Rank, double Alpha) RankAndAlpha(string module) =>
            (RankPattern.FirstOrDefault(p => p.Pattern.IsMatch(module)) is { Pattern: not null } rp ? rp.Rank : R,
             AlphaPattern.FirstOrDefault(p => p.Pattern.IsMatch(module)) is { Pattern: not null } ap ? ap.Alpha : Alpha);

        public static PeftConfig Load(string path)
        {
            JsonObject root;
            try
            {
                root = JsonNode.Parse(InputFile.ReadAllBytes(path, InputFile.SmallFileBytes, PeftFormat.ConfigFileName),
                    documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false }) as JsonObject
                    ?? throw new EvoMergeException($"{path}: expected a JSON object");
            }
            catch (JsonException e) { throw new EvoMergeException($"{path}: not valid JSON ({e.Message})"); }
            string? type = Text(root, "peft_type", path);
            if (type != null && type != "LORA") throw new EvoMergeException($"{path}: peft_type is '{type}', not LORA; only LoRA adapters fold");
            if (Bool(root, "use_dora", path)) throw new EvoMergeException($"{path}: use_dora is true; DoRA adapters are not supported (their magnitude vectors do not fold as W + scale·B·A)");
            int r = Rank(root["r"], "r", path) ?? 8;                                   // PEFT's defaults
            double alpha = AlphaValue(root["lora_alpha"], "lora_alpha", path) ?? 8;
            return new PeftConfig
            {
                Path = path, R = r, Alpha = alpha,
                UseRsLora = Bool(root, "use_rslora", path),
                FanInFanOut = Bool(root, "fan_in_fan_out", path),
                RankPattern = Patterns(root, "rank_pattern", path).Select(p => (p.Regex, Rank(p.Value, $"rank_pattern.{p.Key}", path)!.Value)).ToList(),
                AlphaPattern = Patterns(root, "alpha_pattern", path).Select(p => (p.Regex, AlphaValue(p.Value, $"alpha_pattern.{p.Key}", path)!.Value)).ToList(),
            };
        }

        static string? Text(JsonObject root, string field, string path) => root[field] switch
        {
            null => null,
            JsonValue v when v.TryGetValue(out string? s) => s,
            _ => throw new EvoMergeException($"{path}: {field}: expected a string"),
        };

        static bool Bool(JsonObject root, string field, string path) => root[field] switch
        {
            null => false,
            JsonValue v when v.TryGetValue(out bool b) => b,
            _ => throw new EvoMergeException($"{path}: {field}: expected true or false"),
        };

        static int? Rank(JsonNode? node, string field, string path)
        {
            if (node == null) return null;
            if (node is JsonValue v && v.TryGetValue(out double d) && d == Math.Floor(d) && d >= 1 && d <= 1 << 20) return (int)d;
            throw new EvoMergeException($"{path}: {field}: malformed rank {node.ToJsonString()}; expected a whole number of at least 1");
        }

        static double? AlphaValue(JsonNode? node, string field, string path)
        {
            if (node == null) return null;
            if (node is JsonValue v && v.TryGetValue(out double d) && double.IsFinite(d) && d > 0) return d;
            throw new EvoMergeException($"{path}: {field}: malformed alpha {node.ToJsonString()}; expected a positive number");
        }

        static IEnumerable<(string Key, Regex Regex, JsonNode? Value)> Patterns(JsonObject root, string field, string path)
        {
            if (root[field] is null) yield break;
            if (root[field] is not JsonObject map) throw new EvoMergeException($"{path}: {field}: expected an object of module pattern → value");
            foreach (var (key, value) in map)
            {
                Regex regex;
                try { regex = new Regex($@"^(.*\.)?({key})$", RegexOptions.NonBacktracking | RegexOptions.CultureInvariant); }
                catch (Exception e) when (e is ArgumentException or NotSupportedException)
                {
                    throw new EvoMergeException($"{path}: {field}: key '{key}' is not a regular expression EvoMerge can match in linear time ({e.Message})");
                }
                yield return (key, regex, value);
            }
        }
    }
}
