using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using EvoMerge.Lora.Folding;
using EvoMerge.Merge.Methods;

namespace EvoMerge.Merge.Recipes;

/// <summary>
/// Reads a mergekit YAML recipe into a <see cref="Recipe"/>, keeping each field's line and column. Structural
/// problems (unknown top-level keys, wrong types, NaN values, both or neither of models/slices) fail here with the
/// file, line and field; semantic checks against the models are <see cref="RecipeChecker"/>'s. Keys mergekit
/// accepts and ignores (unknown fields, the old per-source <c>revision</c>) are warnings naming the nearest valid
/// name, which <c>strict: true</c> or <c>--strict</c> turns into errors.
/// </summary>
public static class RecipeParser
{
    static readonly string[] TopLevelKeys =
        ["merge_method", "base_model", "models", "slices", "parameters", "dtype", "out_dtype", "tokenizer_source", "tokenizer", "chat_template", "compat", "name", "strict", "components", "loras"];

    static readonly string[] SourceKeys = ["model", "parameters", "layer_range"];

    public static Recipe Load(string path) => Parse(YamlText.ReadFile(path, "recipe file"), path);

    public static Recipe Parse(string text, string file)
    {
        var root = Root(YamlText.ParseDocuments(text, file), file);
        var warnings = new List<string>();
        var r = new Reader(file, warnings);

        foreach (var (key, _) in root.Children)
        {
            string name = r.KeyText(key);
            if (TopLevelKeys.Contains(name) || name == "modules") continue;
            warnings.Add(MergeMethods.AllParameterNames.Contains(name)
                ? $"{r.Mark(key)}: top-level '{name}' is ignored, as mergekit ignores it; parameters go under 'parameters:' (parameters.{name})"
                : $"{r.Mark(key)}: unknown field '{name}' is ignored, as mergekit ignores it{NearestName.Suggest(name, TopLevelKeys)}");
        }
        var methodNode = r.Field(root, "merge_method") ?? throw r.Error(root, "merge_method is missing (e.g. merge_method: ties)");
        var baseNode = r.Field(root, "base_model");
        var modelsNode = r.Field(root, "models");
        var slicesNode = r.Field(root, "slices");
        var modules = r.Field(root, "modules") is { } modulesNode ? r.Modules(modulesNode, modelsNode ?? slicesNode) : null;
        if (modules != null) (modelsNode, slicesNode) = (modules.Models, modules.Slices);
        if ((modelsNode == null) == (slicesNode == null))
            throw r.Error(modelsNode ?? slicesNode ?? root, "a recipe needs exactly one of 'models' and 'slices'");

        string? tokenizerSource = r.OptionalText(root, "tokenizer_source");
        var tokenizerNode = r.Field(root, "tokenizer");
        if (tokenizerNode != null)
        {
            var map = r.Mapping(tokenizerNode, "tokenizer");
            tokenizerSource = r.OptionalText(map, "source") ?? tokenizerSource;
            foreach (var (key, _) in map.Children.Where(kv => r.KeyText(kv.Key) is not ("source" or "tokens")))
                warnings.Add($"{r.Mark(key)}: tokenizer.{r.KeyText(key)} is not supported and is ignored (tokenizer.source and tokenizer.tokens are)");
        }
        return new Recipe
        {
            File = file,
            Text = text,
            MergeMethod = r.Text(methodNode, "merge_method"),
            MergeMethodMark = r.Mark(methodNode),
            BaseModel = baseNode == null ? null : r.ModelText(baseNode, "base_model"),
            BaseModelMark = baseNode == null ? default : r.Mark(baseNode),
            Models = modelsNode == null ? null : r.Sequence(modelsNode, "models").Select(n => r.Source(n, "models", withRange: false)).ToList(),
            Slices = slicesNode == null ? null : r.Sequence(slicesNode, "slices").Select(r.Slice).ToList(),
            Parameters = r.Parameters(r.Field(root, "parameters"), "parameters"),
            ModuleParameters = r.Parameters(modules?.Parameters, "modules.text_decoder.parameters"),
            CopiedModules = modules?.Copied ?? [],
            Dtype = r.OptionalText(root, "dtype"),
            OutDtype = r.OptionalText(root, "out_dtype"),
            DtypeMark = r.Mark(r.Field(root, "out_dtype") ?? r.Field(root, "dtype") ?? root),
            TokenizerSource = tokenizerSource,
            TokenizerMark = r.Mark(tokenizerNode ?? r.Field(root, "tokenizer_source") ?? root),
            TokenOverrides = tokenizerNode is YamlMappingNode tm && r.Field(tm, "tokens") is { } tokens ? r.TokenOverrides(tokens) : [],
            ChatTemplate = r.OptionalText(root, "chat_template"),
            ChatTemplateMark = r.Mark(r.Field(root, "chat_template") ?? root),
            Strict = r.Field(root, "strict") is { } strict && r.Text(strict, "strict") switch
            {
                "true" or "True" => true,
                "false" or "False" => false,
                _ => throw r.Error(strict, "strict: expected true or false"),
            },
            Components = r.Field(root, "components") is { } components
                ? r.Components(components, baseNode == null ? null : r.ModelText(baseNode, "base_model")) : [],
            Loras = r.Field(root, "loras") is { } loras ? r.Loras(loras) : [],
            Compat = r.OptionalText(root, "compat"),
            CompatMark = r.Mark(r.Field(root, "compat") ?? root),
            Warnings = warnings,
        };
    }

    /// <summary>
    /// The recipe's one document. A second document would be the next stage of a multi-stage recipe, which EvoMerge
    /// does not run yet: it is refused here, the one place that decides it, rather than silently ignored.
    /// </summary>
    static YamlMappingNode Root(IReadOnlyList<YamlNode> documents, string file)
    {
        if (documents.Count > 1)
            throw new EvoMergeException($"{YamlText.Mark(file, documents[1])}: a second YAML document ('---'); multi-stage recipes are not supported, put one recipe per file");
        if (documents.Count == 0) throw new EvoMergeException($"{file}:1:1: the recipe is empty; expected a mapping with merge_method, models or slices, ...");
        return documents[0] as YamlMappingNode ?? throw new EvoMergeException(
            $"{YamlText.Mark(file, documents[0])}: expected a mapping with merge_method, models or slices, ..., found {(documents[0] is YamlSequenceNode ? "a list" : "a single value")}");
    }

    /// <summary>mergekit's <c>modules:</c>: the text decoder's models or slices and parameters; the modules copied from the VLM.</summary>
    sealed record ModulesForm(YamlNode? Models, YamlNode? Slices, YamlNode? Parameters, IReadOnlyList<RecipeModule> Copied);

    /// <summary>mergekit's module names: <c>default</c> is a plain model's one module, the others a VLM's.</summary>
    static readonly string[] ModuleNames = ["default", "text_decoder", "vision_tower", "multi_modal_projector"];

    sealed class Reader(string file, List<string> warnings)
    {
        /// <summary>
        /// <c>modules: {text_decoder: {models|slices, parameters}, vision_tower: {models}, multi_modal_projector: {models}}</c>.
        /// The text decoder (<c>default</c>, a plain model's only module in mergekit) is merged like a plain recipe;
        /// the vision tower and the projector are copied bit for bit from one VLM, so those modules may only name it.
        /// </summary>
        public ModulesForm Modules(YamlNode node, YamlNode? topLevel)
        {
            if (topLevel != null) throw Error(topLevel, "a recipe needs exactly one of 'models', 'slices' and 'modules'");
            YamlMappingNode? decoder = null;
            var copied = new List<RecipeModule>();
            foreach (var (key, value) in Mapping(node, "modules").Children)
            {
                string name = KeyText(key);
                var module = Mapping(value, $"modules.{name}");
                if (name is "text_decoder" or "default")
                {
                    if (decoder != null) throw Error(key, "modules: 'default' and 'text_decoder' are the same module (the language model); write one");
                    decoder = module;
                    continue;
                }
                if (!ModuleNames.Contains(name))
                    throw Error(key, $"modules.{name}: unknown module{NearestName.Suggest(name, ModuleNames)}; a plain model has 'default', a LLaVA text_decoder, vision_tower and multi_modal_projector");
                foreach (var (k, _) in module.Children.Where(kv => KeyText(kv.Key) != "models"))
                    throw Error(k, $"modules.{name}.{KeyText(k)}: EvoMerge copies the {name} bit for bit from the VLM; list that one model under 'models' and nothing else");
                var models = Field(module, "models") is { } m ? Sequence(m, $"modules.{name}.models").Select(n => Source(n, $"modules.{name}.models", withRange: false)).ToList()
                    : throw Error(value, $"modules.{name}: 'models' is missing (the VLM to copy it from)");
                if (models.Count != 1 || models[0].Parameters.Count > 0)
                    throw Error(value, $"modules.{name}: EvoMerge copies the {name} bit for bit from one VLM; list exactly that model, without parameters (got {models.Count} models)");
                copied.Add(new RecipeModule(name, models, Mark(key)));
            }
            if (decoder == null) throw Error(node, "modules: 'text_decoder' is missing (the language model to merge)");
            foreach (var (k, _) in decoder.Children.Where(kv => KeyText(kv.Key) is not ("models" or "slices" or "parameters")))
                throw Error(k, $"modules.text_decoder: unknown field '{KeyText(k)}'{NearestName.Suggest(KeyText(k), ["models", "slices", "parameters"])}");
            return new ModulesForm(Field(decoder, "models"), Field(decoder, "slices"), Field(decoder, "parameters"), copied);
        }

        public RecipeMark Mark(YamlNode node) => new(file, (int)node.Start.Line, (int)node.Start.Column);

        public EvoMergeException Error(YamlNode node, string message) => new($"{Mark(node)}: {message}");

        public string KeyText(YamlNode key) => key is YamlScalarNode s ? s.Value ?? "" : throw Error(key, "expected a field name");

        public YamlNode? Field(YamlMappingNode map, string name) =>
            map.Children.FirstOrDefault(kv => kv.Key is YamlScalarNode k && k.Value == name).Value;

        public string Text(YamlNode node, string field) =>
            node is YamlScalarNode { Value: { Length: > 0 } v } ? v : throw Error(node, $"{field}: expected a text value");

        public string? OptionalText(YamlMappingNode map, string field) => Field(map, field) is { } n ? Text(n, field) : null;

        /// <summary>A model reference: text, or mergekit's long form <c>{model: name}</c>.</summary>
        public string ModelText(YamlNode node, string field)
        {
            if (node is YamlMappingNode m && Field(m, "model") is { } inner) return ModelText(inner, field);
            string text = Text(node, field);
            // mergekit reads "model+lora" as a model with a LoRA folded in on load; the planner opens both halves.
            try { LoraReference.Split(text); }
            catch (EvoMergeException e) { throw Error(node, $"{field}: {e.Message}"); }
            return text;
        }

        public YamlMappingNode Mapping(YamlNode node, string field) =>
            node as YamlMappingNode ?? throw Error(node, $"{field}: expected a mapping");

        public IEnumerable<YamlNode> Sequence(YamlNode node, string field) =>
            node as YamlSequenceNode ?? throw Error(node, $"{field}: expected a list");

        public RecipeSource Source(YamlNode node, string field, bool withRange)
        {
            var map = Mapping(node, field + " entry");
            var modelNode = Field(map, "model") ?? throw Error(node, $"{field}: entry without 'model'");
            foreach (var (key, _) in map.Children)
            {
                string k = KeyText(key);
                if (SourceKeys.Contains(k)) continue;
                warnings.Add(k == "revision"
                    ? $"{Mark(key)}: {field}: 'revision' is ignored, as current mergekit ignores it; write the revision into the name (model: name@revision)"
                    : $"{Mark(key)}: {field}: unknown field '{k}' is ignored, as mergekit ignores it{NearestName.Suggest(k, SourceKeys)}");
            }
            (int, int)? range = null;
            var rangeNode = Field(map, "layer_range");
            if (rangeNode != null)
            {
                var items = Sequence(rangeNode, "layer_range").ToList();
                if (items.Count != 2) throw Error(rangeNode, "layer_range: expected [start, end]");
                range = ((int)Integer(items[0], "layer_range"), (int)Integer(items[1], "layer_range"));
            }
            else if (withRange) throw Error(node, "slice source without layer_range");
            return new RecipeSource(ModelText(modelNode, "model"), Mark(modelNode), range, rangeNode == null ? Mark(node) : Mark(rangeNode),
                Parameters(Field(map, "parameters"), "parameters"));
        }

        /// <summary>EvoMerge's <c>loras:</c>: LoRAs folded into the merged result, each a path (strength 1) or <c>{path, strength}</c>.</summary>
        public List<RecipeLora> Loras(YamlNode node)
        {
            var result = new List<RecipeLora>();
            foreach (var entry in Sequence(node, "loras"))
            {
                if (entry is YamlScalarNode)
                {
                    result.Add(new RecipeLora(Text(entry, "loras"), 1, Mark(entry)));
                    continue;
                }
                var map = Mapping(entry, "loras entry");
                foreach (var (k, _) in map.Children)
                    if (KeyText(k) is not ("path" or "strength"))
                        throw Error(k, $"loras: unknown field '{KeyText(k)}'{NearestName.Suggest(KeyText(k), ["path", "strength"])}; an entry is {{path: ..., strength: ...}}");
                var path = Field(map, "path") ?? throw Error(entry, "loras: entry without 'path'");
                result.Add(new RecipeLora(Text(path, "loras.path"), Field(map, "strength") is { } s ? Number(s, "loras.strength") : 1, Mark(path)));
            }
            return result;
        }

        /// <summary>mergekit's <c>tokenizer.tokens</c>: per token a <c>source</c> (a model, <c>{kind: zero}</c> or
        /// <c>{kind: model_token, model, token | token_id}</c>) and <c>force</c>.</summary>
        public List<TokenOverride> TokenOverrides(YamlNode node)
        {
            var result = new List<TokenOverride>();
            foreach (var (key, value) in Mapping(node, "tokenizer.tokens").Children)
            {
                string token = KeyText(key);
                var entry = Mapping(value, $"tokenizer.tokens.{token}");
                foreach (var (k, _) in entry.Children)
                    if (KeyText(k) is not ("source" or "force"))
                        throw Error(k, $"tokenizer.tokens.{token}: unknown field '{KeyText(k)}'{NearestName.Suggest(KeyText(k), ["source", "force"])}");
                bool force = Field(entry, "force") is { } f && Number(f, "force") != 0;
                var source = Field(entry, "source") ?? throw Error(value, $"tokenizer.tokens.{token}: 'source' is missing");
                if (source is YamlScalarNode)
                {
                    result.Add(new TokenOverride(token, ModelText(source, "source"), null, null, force, Mark(source)));
                    continue;
                }
                var map = Mapping(source, $"tokenizer.tokens.{token}.source");
                string kind = Field(map, "kind") is { } kn ? Text(kn, "kind") : throw Error(source, $"tokenizer.tokens.{token}.source: 'kind' is missing (zero or model_token)");
                if (kind == "zero") result.Add(new TokenOverride(token, null, null, null, force, Mark(source)));
                else if (kind == "model_token")
                    result.Add(new TokenOverride(token,
                        ModelText(Field(map, "model") ?? throw Error(source, $"tokenizer.tokens.{token}.source: 'model' is missing"), "model"),
                        Field(map, "token") is { } t ? Text(t, "token") : null,
                        Field(map, "token_id") is { } id ? (int)Integer(id, "token_id") : null, force, Mark(source)));
                else throw Error(source, $"tokenizer.tokens.{token}.source.kind: '{kind}' is neither 'zero' nor 'model_token'");
            }
            return result;
        }

        /// <summary><c>components: {text_encoder: jsdxl, vae: base}</c>; <c>base</c> is the base model.</summary>
        public List<ComponentSource> Components(YamlNode node, string? baseModel)
        {
            var result = new List<ComponentSource>();
            foreach (var (key, value) in Mapping(node, "components").Children)
            {
                string component = KeyText(key);
                string model = ModelText(value, $"components.{component}");
                if (model == "base")
                    model = baseModel ?? throw Error(value, $"components.{component}: 'base' names the base model, but the recipe has no base_model");
                result.Add(new ComponentSource(component, model, Mark(value)));
            }
            return result;
        }

        public RecipeSlice Slice(YamlNode node)
        {
            var map = Mapping(node, "slices entry");
            var sources = Field(map, "sources") ?? throw Error(node, "slice without 'sources'");
            return new RecipeSlice(Sequence(sources, "sources").Select(n => Source(n, "sources", withRange: true)).ToList(),
                Parameters(Field(map, "parameters"), "parameters"), Mark(node));
        }

        public IReadOnlyDictionary<string, ParameterSetting> Parameters(YamlNode? node, string field)
        {
            var result = new Dictionary<string, ParameterSetting>();
            if (node == null) return result;
            foreach (var (key, value) in Mapping(node, field).Children)
                result[KeyText(key)] = Setting(value, KeyText(key));
            return result;
        }

        ParameterSetting Setting(YamlNode node, string name)
        {
            switch (node)
            {
                case YamlScalarNode:
                    return ParameterSetting.Of(Number(node, name), Mark(node));
                case YamlSequenceNode seq when seq.Children.Count > SanityBounds.MaxLayers:
                    throw Error(node, $"{name}: a list of {seq.Children.Count} values; at most {SanityBounds.MaxLayers} (one per layer) make sense");
                case YamlSequenceNode seq when seq.Children.Count > 0 && seq.Children.All(c => c is YamlScalarNode):
                    return ParameterSetting.OfGradient(seq.Children.Select(c => Number(c, name)).ToList(), Mark(node));
                case YamlSequenceNode seq when seq.Children.Count > 0 && seq.Children.All(c => c is YamlMappingNode):
                    return ParameterSetting.OfFilters(seq.Children.Select(c =>
                    {
                        var entry = (YamlMappingNode)c;
                        var value = Field(entry, "value") ?? throw Error(c, $"{name}: filter entry without 'value'");
                        var filter = Field(entry, "filter") is { } f ? Filter(f) : null;
                        return (filter, Setting(value, name));
                    }).ToList(), Mark(node));
                default:
                    throw Error(node, $"{name}: expected a number, a list of numbers (gradient) or a list of filter/value entries");
            }
        }

        TensorFilter Filter(YamlNode node)
        {
            string text = Text(node, "filter");
            try { return new TensorFilter(text); }
            catch (ArgumentException e) { throw Error(node, $"filter: '{text}' is not a valid regular expression ({e.Message})"); }
            catch (NotSupportedException e) { throw Error(node, $"filter: '{text}' uses a construct that linear-time matching cannot do ({e.Message})"); }
            catch (FormatException e) { throw Error(node, $"filter: '{text}': {e.Message}"); }
        }

        double Number(YamlNode node, string name)
        {
            string text = node is YamlScalarNode s ? s.Value ?? "" : "";
            if (text is "true" or "True") return 1;
            if (text is "false" or "False") return 0;
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
                throw Error(node, $"{name}: expected a finite number, got '{text}'");
            return v;
        }

        double Integer(YamlNode node, string name)
        {
            double v = Number(node, name);
            return v == Math.Floor(v) && v >= 0 && v <= SanityBounds.MaxLayers ? v
                : throw Error(node, $"{name}: expected a whole number from 0 to {SanityBounds.MaxLayers}");
        }
    }
}
