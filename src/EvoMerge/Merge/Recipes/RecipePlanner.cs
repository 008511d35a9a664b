using EvoMerge.Anatomy;
using EvoMerge.IO;
using EvoMerge.Lora.Folding;
using EvoMerge.Merge.Execution;
using EvoMerge.Merge.Methods;

namespace EvoMerge.Merge.Recipes;

/// <summary>
/// Checks a recipe against the models' config.json and safetensors headers (no tensor data is read) and plans it:
/// mergekit's layout of a merge (embeddings from the first slice at t = 0, each slice's layers renumbered
/// consecutively with t = i/(n−1), final norm and head from the last slice at t = 0, as mergekit's plan.py). Every problem found is an
/// <see cref="EvoMergeException"/> that names the recipe line and field, so <c>merge</c> fails before any work.
/// </summary>
public static class RecipePlanner
{
    /// <summary>Plans <paramref name="recipe"/>; with <paramref name="strict"/> (or the recipe's <c>strict: true</c>) warnings are errors.</summary>
    /// <param name="resolveModel">Maps a model reference to what <see cref="ModelFolder.Open"/> opens (a multi-stage
    /// recipe sends stage names to their intermediate folders); the reference itself stays the model's name.</param>
    public static PlannedRecipe Plan(Recipe recipe, MergeCompat? compatOverride = null, bool strict = false, Func<string, string>? resolveModel = null)
    {
        var method = MergeMethods.Find(recipe.MergeMethod) ?? throw new EvoMergeException(
            $"{recipe.MergeMethodMark}: merge_method: unknown method '{recipe.MergeMethod}'{NearestName.Suggest(recipe.MergeMethod, MergeMethods.All.Select(m => m.Name))}");
        var compat = compatOverride ?? ParseCompat(recipe);
        var warnings = new List<string>(recipe.Warnings);
        CheckParameterNames(recipe, method, warnings);
        RecipeChatTemplates.Resolve(recipe);   // a bad chat_template fails check, not the end of a merge
        if ((strict || recipe.Strict) && warnings.Count > 0)
            throw new EvoMergeException($"{warnings[0]} (strict: warnings are errors{(warnings.Count > 1 ? $"; {warnings.Count - 1} more" : "")})");
        if (method.BaseUse == BaseModelUse.Required && recipe.BaseModel == null)
            throw new EvoMergeException($"{recipe.MergeMethodMark}: merge_method: {method.Name} needs base_model, which is missing");

        var loras = new List<LoraFile>();
        var models = new Dictionary<string, ModelFolder>();
        try
        {
            var folded = OpenModels(recipe, resolveModel ?? (r => r), models, loras, warnings, out var loraNotes);
            var outputLoras = recipe.Loras.Select(l => Open(l, loras)).ToList();
            var planned = Build(recipe, method, compat, models, folded, outputLoras, loras, warnings, loraNotes);
            if ((strict || recipe.Strict) && warnings.Count > 0)
            {
                planned.Dispose();
                models.Clear();
                loras.Clear();
                throw new EvoMergeException($"{warnings[0]} (strict: warnings are errors{(warnings.Count > 1 ? $"; {warnings.Count - 1} more" : "")})");
            }
            return planned;
        }
        catch
        {
            foreach (var m in models.Values) m.Dispose();
            foreach (var l in loras) l.Dispose();
            throw;
        }
    }

    static (RecipeLora Entry, LoraFile File) Open(RecipeLora entry, List<LoraFile> opened)
    {
        try
        {
            var file = LoraFile.Open(entry.Path);
            opened.Add(file);
            return (entry, file);
        }
        catch (EvoMergeException e) { throw new EvoMergeException($"{entry.Mark}: loras: {e.Message}", e); }
    }

    static MergeCompat ParseCompat(Recipe recipe) =>
        recipe.Compat is { } compat ? UserChoices.Compat(compat, $"{recipe.CompatMark}: compat") : MergeCompat.Paper;

    /// <summary>Typos are errors (with a suggestion); parameters of other methods are warnings, as mergekit ignores them.</summary>
    static void CheckParameterNames(Recipe recipe, MergeMethod method, List<string> warnings)
    {
        var declared = method.GlobalParameters.Concat(method.ModelParameters).ToDictionary(p => p.Name);
        var levels = new List<IReadOnlyDictionary<string, ParameterSetting>> { recipe.Parameters, recipe.ModuleParameters };
        foreach (var s in recipe.Models ?? []) levels.Add(s.Parameters);
        foreach (var slice in recipe.Slices ?? []) { levels.Add(slice.Parameters); levels.AddRange(slice.Sources.Select(s => s.Parameters)); }
        foreach (var level in levels)
            foreach (var (name, setting) in level)
            {
                if (declared.TryGetValue(name, out var def))
                {
                    if (name == "density" || name == "select_topk")
                        foreach (var (v, mark) in setting.Numbers())
                            if (v < 0 || v > 1) throw new EvoMergeException($"{mark}: {name}: expected a value in [0, 1], got {v}");
                    continue;
                }
                if (MergeMethods.AllParameterNames.Contains(name))
                    warnings.Add($"{setting.Mark}: parameter '{name}' has no effect with {method.Name}" +
                        (name == "density" ? " (task vectors are not sparsified; use ties or dare_ties to drop entries)" : ""));
                else
                    // mergekit reads only the parameters a method declares and ignores the rest (sce's old 'smooth').
                    warnings.Add($"{setting.Mark}: unknown parameter '{name}' for {method.Name} is ignored, as mergekit ignores it" +
                        $"{NearestName.Suggest(name, declared.Keys.Concat(MergeMethods.AllParameterNames))}; valid: {string.Join(", ", declared.Keys)}");
            }
    }

    /// <summary>
    /// Opens every model the recipe names into <paramref name="opened"/>; a <c>model+lora</c> reference opens the model
    /// and the LoRA, matches the LoRA onto the model's tensors and returns the changes to fold in on read, by reference.
    /// </summary>
    static Dictionary<string, LoraPatches> OpenModels(Recipe recipe, Func<string, string> resolveModel, Dictionary<string, ModelFolder> opened,
        List<LoraFile> loras, List<string> warnings, out List<string> notes)
    {
        var folded = new Dictionary<string, LoraPatches>();
        notes = [];
        foreach (var (reference, mark) in recipe.ReferencedModels())
        {
            try
            {
                var (model, lora) = LoraReference.Split(reference);
                var folder = opened[reference] = ModelFolder.Open(resolveModel(model));
                if (lora == null) continue;
                var file = LoraFile.Open(lora);
                loras.Add(file);
                var patches = new LoraPatches(folder.Weights.Tensors.Select(t => (t.Name, t.Shape)), $"model '{model}'", folder.Anatomy);
                notes.Add(patches.Add(file, 1, warnings));
                folded[reference] = patches;
            }
            catch (EvoMergeException e) { throw new EvoMergeException($"{mark}: model: {e.Message}", e); }
        }
        return folded;
    }

    static PlannedRecipe Build(Recipe recipe, MergeMethod method, MergeCompat compat, Dictionary<string, ModelFolder> models,
        Dictionary<string, LoraPatches> folded, List<(RecipeLora Entry, LoraFile File)> outputLoras, List<LoraFile> loras, List<string> warnings, List<string> loraNotes)
    {
        var notes = new List<string>(loraNotes);
        var slices = Slices(recipe, method, models);
        var sourceNames = models.Keys.ToList();
        var sources = sourceNames.Select(n =>
        {
            IWeightSource weights = new SafetensorsWeights(models[n].Weights, n);
            return folded.TryGetValue(n, out var patches) ? new LoraFoldedWeights(weights, patches) : weights;
        }).ToList();
        int SourceIndex(string model) => sourceNames.IndexOf(model);

        // Per slice: which source is the base and which are the models the kernel sees.
        var roles = slices.Select(s => SliceRoles(recipe, method, s)).ToList();
        // With a LLaVA among the models, names are matched as decoder names and the output is laid out as the VLM.
        var vlm = VlmMerge.Find(recipe, models);
        var reference = vlm?.Model ?? models[recipe.BaseModel != null && method.BaseUse != BaseModelUse.Ignored ? recipe.BaseModel : slices[0].Sources[0].Model];
        var anatomy = reference.Anatomy;
        // Diffusion components taken whole from one model (components:) have no jobs; the writer copies them.
        var components = RecipeComponents.Resolve(recipe, reference, models);
        var copied = RecipeComponents.CopiedModules(components);
        bool Merged(string name) => copied.Count == 0 || anatomy.DiffusionComponent(name) is not { } c || !copied.Contains(c.Module);
        notes.AddRange(components.Select(c => $"{c.Key}: taken whole from {c.Value}, not merged"));
        string? DecoderName(string model, string name) => vlm == null ? name : vlm.DecoderName(model, name);
        string OutputName(string decoder) => vlm?.OutputName(decoder) ?? decoder;
        string NameIn(RecipeSource s, string decoder) => vlm?.NameIn(s.Model, decoder) ?? decoder;
        ModelAnatomy DecoderAnatomy(string model) => vlm == null ? anatomy : models[model].Anatomy.Decoder;
        string tokenizerSource = vlm != null ? "base" : recipe.TokenizerSource ?? "base";
        var jobs = new List<MergeJob>();
        var dtypes = new List<DType>();
        DType? outDType = (recipe.OutDtype ?? recipe.Dtype) is { } d ? ParseOutDType(d, recipe) : null;
        int? outputVocab = null;
        if (recipe.TokenOverrides.Count > 0 && tokenizerSource != "union")
            throw new EvoMergeException($"{recipe.TokenizerMark}: tokenizer.tokens needs tokenizer source 'union' (it is '{tokenizerSource}')");
        var union = tokenizerSource == "union"
            ? TokenizerUnion.Build([.. models.Select(m => (m.Key, m.Value))], recipe.BaseModel is { } bm && models.ContainsKey(bm) ? bm : models.Keys.First())
            : null;
        var unionRows = union == null ? null : new UnionRows(union, recipe, models, SourceIndex);
        if (union != null)
            notes.Add($"tokenizer union: {union.Tokens.Count} tokens ({union.RowOf[union.Primary].Count(r => r >= 0)} from {union.Primary}); rows a model lacks come from the base, the one model that has them, or their mean");

        void AddJob(string outName, int slice, TensorPosition position, Func<RecipeSource, string> inputName)
        {
            var (baseSource, modelSources) = roles[slice];
            var first = baseSource ?? modelSources[0];
            var refModel = models[first.Model];
            var refInfo = refModel.Weights.TryGetInfo(inputName(first), out var info) ? info
                : throw new EvoMergeException($"{first.Mark}: model '{first.Model}' has no tensor '{inputName(first)}'");
            long[] shape = (long[])refInfo.Shape.Clone();
            bool isVocab = position.Role is TensorRole.Embedding or TensorRole.Head;
            var all = (baseSource != null ? new[] { baseSource } : []).Concat(modelSources).ToList();
            if (isVocab && vlm != null)
            {
                // Rows only the VLM has are copied from it; the rows every source has are merged.
                var (rows, shared) = vlm.Rows(outName, all, inputName, notes);
                shape = [.. vlm.Model.Weights.Tensors.First(t => t.Name == outName).Shape];
                outputVocab = (int)rows;
                TensorInput Plain(RecipeSource s) => new(SourceIndex(s.Model), inputName(s));
                jobs.Add(new MergeJob(outName, shape, baseSource == null ? null : Plain(baseSource), modelSources.Select(Plain).ToArray(), position,
                    Copied: shared < rows ? new CopiedRows(new TensorInput(SourceIndex(vlm.Name), outName), shared) : null));
                dtypes.Add(outDType ?? refInfo.DType);
                return;
            }
            if (isVocab)
            {
                long rows = unionRows != null ? unionRows.Count
                    : tokenizerSource == "base" ? shape[0] : Info(models, SourceFor(recipe, tokenizerSource, all), inputName(SourceFor(recipe, tokenizerSource, all))).Shape[0];
                shape[0] = rows;
                outputVocab = (int)rows;
            }
            TensorInput Input(RecipeSource s)
            {
                if (isVocab && unionRows != null) return new TensorInput(SourceIndex(s.Model), inputName(s), RowMap: unionRows.For(s, all, inputName));
                var i = Info(models, s, inputName(s));
                bool sameShape = i.Shape.AsSpan().SequenceEqual(shape);
                bool rowsOnly = isVocab && i.Shape.Length == shape.Length && i.Shape.AsSpan(1).SequenceEqual(shape.AsSpan(1));
                if (!sameShape && !rowsOnly)
                    throw new EvoMergeException($"{s.Mark}: tensor '{inputName(s)}' of model '{s.Model}' has shape {i.ShapeText}, expected [{string.Join(", ", shape)}] (as in '{first.Model}')");
                if (!sameShape)
                {
                    if (i.Shape[0] < shape[0] && tokenizerSource != "union")
                        throw new EvoMergeException($"{recipe.TokenizerMark}: model '{s.Model}' has {i.Shape[0]} rows in '{inputName(s)}' but the output vocabulary has {shape[0]}; set tokenizer_source: union (new rows get the model's mean embedding) or pick the smaller tokenizer");
                    notes.Add(i.Shape[0] > shape[0]
                        ? $"{inputName(s)}: model '{s.Model}' has {i.Shape[0]} rows; rows beyond {shape[0]} are dropped (tokenizer_source: {tokenizerSource})"
                        : $"{inputName(s)}: model '{s.Model}' has {i.Shape[0]} rows; rows {i.Shape[0]}..{shape[0] - 1} get its mean embedding (tokenizer_source: union)");
                    return new TensorInput(SourceIndex(s.Model), inputName(s), i.Shape[0]);
                }
                return new TensorInput(SourceIndex(s.Model), inputName(s));
            }
            jobs.Add(new MergeJob(outName, shape, baseSource == null ? null : Input(baseSource), modelSources.Select(Input).ToArray(), position,
                isVocab ? unionRows?.Forced(all, inputName) : null));
            dtypes.Add(outDType ?? refInfo.DType);
        }

        // A VLM's vision tower and projector: copied whole, in its dtype.
        foreach (var t in vlm?.CopiedTensors(notes) ?? [])
        {
            jobs.Add(new MergeJob(t.Name, [.. t.Shape], null, [], new TensorPosition(anatomy.Place(t.Name), 0, 0),
                Copied: new CopiedRows(new TensorInput(SourceIndex(vlm!.Name), t.Name), 0)));
            dtypes.Add(t.DType);
        }
        // Embeddings and other non-layer tensors before the layers come from the first slice at t = 0.
        var firstSource = (roles[0].Base ?? roles[0].Models[0]).Model;
        foreach (var t in models[firstSource].Weights.Tensors)
        {
            if (DecoderName(firstSource, t.Name) is not string decoder) continue;
            var place = anatomy.Place(OutputName(decoder));
            if (place.Role != TensorRole.Layer && place.Role is not (TensorRole.FinalNorm or TensorRole.Head) && Merged(t.Name))
                AddJob(OutputName(decoder), 0, new TensorPosition(place, 0, 0), src => NameIn(src, decoder));
        }
        int outLayer = 0;
        for (int s = 0; s < slices.Count; s++)
        {
            var (baseSource, modelSources) = roles[s];
            var first = baseSource ?? modelSources[0];
            var (start, end) = first.LayerRange!.Value;
            int n = end - start;
            for (int i = 0; i < n; i++, outLayer++)
            {
                double t = n > 1 ? (double)i / (n - 1) : 1;
                int layerOut = outLayer, offset = i;
                var layerAnatomy = DecoderAnatomy(first.Model);
                foreach (var tensor in models[first.Model].TensorsOfLayer(start + i).Where(t => Merged(t.Name)))
                {
                    string name = DecoderName(first.Model, tensor.Name)!;
                    AddJob(OutputName(layerAnatomy.WithLayer(name, layerOut)), s, new TensorPosition(layerAnatomy.Place(name) with { Layer = layerOut }, s, t),
                        src => NameIn(src, layerAnatomy.WithLayer(name, src.LayerRange!.Value.Start + offset)));
                }
            }
        }
        // Final norm and head come from the last slice at t = 0: mergekit plans the tensors after the layers so (plan.py),
        // and recipes written for it (a gradient on ties, say) expect the gradient's first value there, in both modes.
        var lastSource = (roles[^1].Base ?? roles[^1].Models[0]).Model;
        foreach (var t in models[lastSource].Weights.Tensors)
        {
            if (DecoderName(lastSource, t.Name) is not string decoder) continue;
            var place = anatomy.Place(OutputName(decoder));
            if ((place.Role is TensorRole.FinalNorm or TensorRole.Head) && Merged(t.Name))
                AddJob(OutputName(decoder), slices.Count - 1, new TensorPosition(place, slices.Count - 1, 0), src => NameIn(src, decoder));
        }

        var plan = new MergePlan(method, sources, jobs);
        var outputPatches = new LoraPatches(jobs.Select(j => (j.OutputName, j.Shape)), "the merged output", anatomy);
        foreach (var (entry, file) in outputLoras)
        {
            try { notes.Add(outputPatches.Add(file, entry.Strength, warnings)); }
            catch (EvoMergeException e) { throw new EvoMergeException($"{entry.Mark}: loras: {e.Message}", e); }
        }
        var parameters = new RecipeParameters(recipe, slices, sourceNames);
        // Resolve every parameter of every tensor now: a missing or unusable value fails here, not mid-merge.
        foreach (var job in jobs.Where(j => !j.IsCopy))
        {
            var globals = method.GlobalParameters.Select(p => parameters.Global(p, job)).ToArray();
            var perModel = Enumerable.Range(0, job.Models.Length)
                .Select(m => method.ModelParameters.Select(p => parameters.PerModel(p, job, m)).ToArray()).ToArray();
            if (method.CheckValues(globals, perModel) is { } problem)
                throw new EvoMergeException($"{recipe.MergeMethodMark}: {method.Name}, tensor {job.OutputName}: {problem}");
        }
        // The union's tokenizer: the primary model's tokenizer.json extended by the new tokens; when there is no
        // vocabulary to extend (ids are the tokens), the files of the model with the largest vocabulary.
        string? unionJson = union?.TokenizerJson(models[union.Primary]);
        var tokenizerModel = vlm != null ? vlm.Model : tokenizerSource switch
        {
            "base" => reference,
            "union" => unionJson != null ? models[union!.Primary] : models.Values.MaxBy(m => m.Config?.VocabSize ?? 0)!,
            _ => models.TryGetValue(tokenizerSource, out var tm) ? tm
                : throw new EvoMergeException($"{recipe.TokenizerMark}: tokenizer source '{tokenizerSource}' is not 'base', 'union' or a model of the recipe{NearestName.Suggest(tokenizerSource, models.Keys)}"),
        };
        return new PlannedRecipe
        {
            Recipe = recipe, Plan = plan, Parameters = parameters, Compat = compat, Models = models, Reference = reference,
            TokenizerModel = tokenizerModel, Components = components, UnionTokenizerJson = unionJson, OutputLayers = outLayer, OutputVocab = outputVocab, OutputDTypes = dtypes,
            Warnings = warnings, Notes = notes.Distinct().ToList(), Loras = loras, OutputLoras = outputPatches,
        };
    }

    static RecipeSource SourceFor(Recipe recipe, string model, List<RecipeSource> all) =>
        all.FirstOrDefault(s => s.Model == model) ?? throw new EvoMergeException(
            $"{recipe.TokenizerMark}: tokenizer source '{model}' is not 'base', 'union' or a model of this slice{NearestName.Suggest(model, all.Select(s => s.Model))}");

    static TensorInfo Info(Dictionary<string, ModelFolder> models, RecipeSource s, string name) =>
        models[s.Model].Weights.TryGetInfo(name, out var info) ? info
        : throw new EvoMergeException($"{s.Mark}: model '{s.Model}' has no tensor '{name}'");

    static DType ParseOutDType(string name, Recipe recipe)
    {
        var d = UserChoices.DType(name, recipe.DtypeMark.ToString());
        return d is DType.F32 or DType.F16 or DType.BF16 ? d
            : throw new EvoMergeException($"{recipe.DtypeMark}: output dtype {name} is not supported; use float32, float16 or bfloat16");
    }

    /// <summary>The recipe as slices: a <c>models</c> recipe is one slice over every model's full depth (plus the base).</summary>
    static List<RecipeSlice> Slices(Recipe recipe, MergeMethod method, Dictionary<string, ModelFolder> models)
    {
        List<RecipeSlice> slices;
        if (recipe.Models != null)
        {
            var sources = recipe.Models.Select(m => m with { LayerRange = (0, models[m.Model].LayerCount) }).ToList();
            if (recipe.BaseModel != null && method.BaseUse != BaseModelUse.Ignored && sources.All(s => s.Model != recipe.BaseModel))
                sources.Add(new RecipeSource(recipe.BaseModel, recipe.BaseModelMark, (0, models[recipe.BaseModel].LayerCount), recipe.BaseModelMark,
                    new Dictionary<string, ParameterSetting>()));
            slices = [new RecipeSlice(sources, new Dictionary<string, ParameterSetting>(), recipe.MergeMethodMark)];
        }
        else slices = recipe.Slices!.ToList();
        if (slices.Count == 0) throw new EvoMergeException($"{recipe.MergeMethodMark}: the recipe has no slices");

        foreach (var slice in slices)
        {
            if (slice.Sources.Count == 0) throw new EvoMergeException($"{slice.Mark}: slice without sources");
            foreach (var s in slice.Sources)
            {
                var (start, end) = s.LayerRange!.Value;
                int layers = models[s.Model].LayerCount;
                if (start >= end || end > layers)
                    throw new EvoMergeException($"{s.LayerRangeMark}: layer_range [{start}, {end}] is not a non-empty range within model '{s.Model}', which has {layers} layers (0..{layers})");
            }
            if (slice.Sources.Select(s => s.LayerRange!.Value.End - s.LayerRange!.Value.Start).Distinct().Count() > 1)
                throw new EvoMergeException($"{slice.Sources[0].LayerRangeMark}: the sources of a slice must span the same number of layers, got " +
                    string.Join(", ", slice.Sources.Select(s => $"'{s.Model}' {s.LayerRange!.Value.End - s.LayerRange!.Value.Start}")));
        }
        return slices;
    }

    /// <summary>Splits a slice's sources into the base (for methods that use one) and the models the kernel combines.</summary>
    static (RecipeSource? Base, List<RecipeSource> Models) SliceRoles(Recipe recipe, MergeMethod method, RecipeSlice slice)
    {
        RecipeSource? baseSource = null;
        var others = slice.Sources.ToList();
        if (method.BaseUse != BaseModelUse.Ignored && recipe.BaseModel != null)
        {
            baseSource = slice.Sources.FirstOrDefault(s => s.Model == recipe.BaseModel);
            if (baseSource == null && method.BaseUse == BaseModelUse.Required)
                throw new EvoMergeException($"{slice.Mark}: base_model '{recipe.BaseModel}' is not among this slice's sources, and {method.Name} needs it");
            if (baseSource != null) others.Remove(baseSource);
        }
        if (others.Count < method.MinModels || others.Count > method.MaxModels)
        {
            string expected = method.MaxModels == int.MaxValue ? $"at least {method.MinModels}"
                : method.MinModels == method.MaxModels ? $"exactly {method.MinModels}" : $"{method.MinModels} to {method.MaxModels}";
            throw new EvoMergeException($"{slice.Mark}: {method.Name} takes {expected} model(s) besides the base, got {others.Count}");
        }
        return (baseSource, others);
    }
}
