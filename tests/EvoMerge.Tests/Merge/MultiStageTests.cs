using EvoMerge.Merge.Execution;
using EvoMerge.Merge.MultiStage;

namespace EvoMerge.Tests.Merge;

/// <summary>
/// Multi-stage recipes (mergekit-multi's format): a slerp → dare_ties → passthrough chain equals the three recipes run
/// by hand, a re-run reuses the intermediates (and rebuilds exactly what an edit invalidates), and cycles, unknown
/// names, duplicate and missing names are refused with file, line and names.
/// </summary>
public class MultiStageTests : IDisposable
{
    readonly RecipeRunner _run = new();

    public MultiStageTests()
    {
        var b = TestModels.Write(_run.Root, "base", 1);
        TestModels.Write(_run.Root, "x", 2, related: b);
        TestModels.Write(_run.Root, "y", 3, related: b);
    }

    public void Dispose() => _run.Dispose();

    // Stages are deliberately out of dependency order: the file lists the output first.
    const string Chain = """
        # the final model: blend's first layers, then sparse's last ones
        name: final
        slices:
          - sources:
            - model: blend
              layer_range: [0, 2]
          - sources:
            - model: sparse
              layer_range: [1, 4]
        merge_method: passthrough
        dtype: float32
        ---
        name: blend
        merge_method: slerp
        base_model: {root}/x
        models:
          - model: {root}/x
          - model: {root}/y
        parameters:
          t: [0.2, 0.7]
        dtype: float32
        ---
        name: sparse
        merge_method: dare_ties
        base_model: {root}/base
        models:
          - model: blend
            parameters: {density: 0.5, weight: 0.6}
          - model: {root}/y
            parameters: {density: 0.7, weight: 0.4}
        dtype: float32
        """;

    string Write(string name, string text)
    {
        string path = Path.Combine(_run.Root, name);
        File.WriteAllText(path, text.Replace("{root}", _run.Root));
        return path;
    }

    IReadOnlyList<StageOutcome> RunMulti(string recipePath, string output, string intermediates = "stages") =>
        MultiStageRunner.Run(MultiStageRecipe.Load(recipePath), Path.Combine(_run.Root, output), Path.Combine(_run.Root, intermediates),
            null, false, new MergeOptions { Seed = 9, Threads = 2 });

    [Fact]
    public void Three_stages_equal_the_stages_run_by_hand()
    {
        var outcomes = RunMulti(Write("multi.yml", Chain), "out");
        Assert.Equal(["blend", "sparse", "final"], outcomes.Select(o => o.Stage.Name));
        Assert.All(outcomes, o => Assert.Equal(StageStatus.Written, o.Status));

        // By hand: each document as its own recipe, later ones naming the folders the earlier ones were written to.
        var docs = Chain.Split("---\n");
        string blend = _run.Merge(docs[1], "hand-blend", seed: 9);
        string sparse = _run.Merge(docs[2].Replace("model: blend", $"model: {blend}"), "hand-sparse", seed: 9);
        string final = _run.Merge(docs[0].Replace("model: blend", $"model: {blend}").Replace("model: sparse", $"model: {sparse}"), "hand-final", seed: 9);

        foreach (var (multi, hand) in new[] { ("stages/blend", blend), ("stages/sparse", sparse), ("out", final) })
        {
            var (m1, t1) = TestModels.Read(Path.Combine(_run.Root, multi));
            var (m2, t2) = TestModels.Read(hand);
            using (m1) using (m2)
            {
                Assert.Equal(t2.Keys.Order(), t1.Keys.Order());
                foreach (var (name, values) in t2) Assert.Equal(values, t1[name]);
            }
        }
        // The chain really mixed things: the final layer 0 is blend's, not x's or y's.
        var (model, t) = TestModels.Read(Path.Combine(_run.Root, "out"));
        using (model)
        {
            Assert.Equal(5, model.LayerCount);
            var (bm, bt) = TestModels.Read(blend);
            using (bm) Assert.Equal(bt["model.layers.0.mlp.up_proj.weight"], t["model.layers.0.mlp.up_proj.weight"]);
        }
    }

    [Fact]
    public void A_rerun_reuses_current_intermediates_and_rebuilds_what_an_edit_invalidates()
    {
        string path = Write("multi.yml", Chain);
        RunMulti(path, "out1");
        string blendWeights = Path.Combine(_run.Root, "stages", "blend", "model.safetensors");
        var blendTime = File.GetLastWriteTimeUtc(blendWeights);

        var again = RunMulti(path, "out2");
        Assert.Equal([StageStatus.Reused, StageStatus.Reused, StageStatus.Written], again.Select(o => o.Status));
        Assert.Equal(blendTime, File.GetLastWriteTimeUtc(blendWeights));
        Assert.Equal(File.ReadAllBytes(Path.Combine(_run.Root, "out1", "model.safetensors")), File.ReadAllBytes(Path.Combine(_run.Root, "out2", "model.safetensors")));

        // Editing the middle stage rebuilds it and the output, not the first stage.
        Write("multi.yml", Chain.Replace("density: 0.5", "density: 0.4"));
        var edited = RunMulti(path, "out3");
        Assert.Equal([StageStatus.Reused, StageStatus.Written, StageStatus.Written], edited.Select(o => o.Status));
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(_run.Root, "out1", "model.safetensors")), File.ReadAllBytes(Path.Combine(_run.Root, "out3", "model.safetensors")));

        // Another seed changes DARE's masks: sparse is rebuilt; blend (slerp) too, since the seed is part of every stamp.
        var reseeded = MultiStageRunner.Run(MultiStageRecipe.Load(path), Path.Combine(_run.Root, "out4"), Path.Combine(_run.Root, "stages"), null, false, new MergeOptions { Seed = 10, Threads = 2 });
        Assert.All(reseeded, o => Assert.Equal(StageStatus.Written, o.Status));
    }

    [Fact]
    public void An_intermediate_folder_not_written_by_a_run_is_never_replaced()
    {
        string path = Write("multi.yml", Chain);
        Directory.CreateDirectory(Path.Combine(_run.Root, "stages", "blend"));
        File.WriteAllText(Path.Combine(_run.Root, "stages", "blend", "notes.txt"), "mine");
        var e = Assert.Throws<EvoMergeException>(() => RunMulti(path, "out"));
        Assert.Contains("not written by a multi-stage run", e.Message);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(_run.Root, "stages", "blend", "notes.txt")));
    }

    [Fact]
    public void An_output_that_would_be_refused_at_the_end_is_refused_before_stage_one()
    {
        string path = Write("multi.yml", Chain);
        Directory.CreateDirectory(Path.Combine(_run.Root, "full"));
        File.WriteAllText(Path.Combine(_run.Root, "full", "x"), "");
        var e = Assert.Throws<EvoMergeException>(() => RunMulti(path, "full"));
        Assert.Contains("not empty", e.Message);
        e = Assert.Throws<EvoMergeException>(() => RunMulti(path, "out", intermediates: "out/stages"));
        Assert.Contains("must not be (inside) the output folder", e.Message);
        Assert.False(Directory.Exists(Path.Combine(_run.Root, "stages")));
        Assert.False(Directory.Exists(Path.Combine(_run.Root, "out")));
    }

    string Refused(string text)
    {
        string path = Write("bad.yml", text);
        var e = Assert.Throws<EvoMergeException>(() => MultiStageRunner.Check(MultiStageRecipe.Load(path), Path.Combine(_run.Root, "stages"), null, false, 0));
        Assert.Contains(path, e.Message);
        return e.Message;
    }

    [Fact]
    public void Cycles_are_refused_naming_file_lines_and_stages()
    {
        string m = Refused("""
            name: a
            merge_method: linear
            models:
              - model: b
                parameters: {weight: 1}
            ---
            name: b
            merge_method: linear
            models:
              - model: c
                parameters: {weight: 1}
            ---
            name: c
            merge_method: linear
            models:
              - model: a
                parameters: {weight: 1}
              - model: {root}/x
                parameters: {weight: 1}
            """);
        Assert.Contains("cycle: a → b → c → a", m);
        Assert.Contains("lines 4, 10, 16", m);
    }

    [Fact]
    public void Unknown_duplicate_and_missing_names_are_refused()
    {
        string m = Refused(Chain.Replace("model: sparse", "model: sprase"));
        Assert.Contains(":8:", m);
        Assert.Contains("'sprase' is neither a stage", m);
        Assert.Contains("did you mean 'sparse'", m);

        m = Refused(Chain.Replace("name: sparse", "name: blend"));
        Assert.Contains("stage name 'blend' is also used at line 13", m);

        m = Refused(Chain.Replace("name: blend\n", ""));
        Assert.Contains("needs a 'name'", m);

        m = Refused(Chain + "\n" + """
            ---
            name: spare
            merge_method: linear
            models:
              - model: {root}/x
                parameters: {weight: 1}
            """);
        Assert.True(m.Contains("'final' (line 2), 'spare' (line 33) are used by no other stage"), m);

        m = Refused(Chain.Replace("t: [0.2, 0.7]", "t: .nan"));
        Assert.Contains(":20:6: t: expected a finite number", m); // the recipe parser's own messages keep their line in the file
    }

    [Fact]
    public void Check_plans_stages_whose_inputs_exist_and_says_which_wait()
    {
        string path = Write("multi.yml", Chain);
        var checkedStages = MultiStageRunner.Check(MultiStageRecipe.Load(path), Path.Combine(_run.Root, "stages"), null, false, 0);
        try
        {
            Assert.Equal([StageStatus.Checked, StageStatus.WaitsForInputs, StageStatus.WaitsForInputs], checkedStages.Select(c => c.Outcome.Status));
            Assert.Contains("blend", checkedStages[1].Outcome.Detail);
            Assert.NotNull(checkedStages[0].Planned);
        }
        finally
        {
            foreach (var (_, p) in checkedStages) p?.Dispose();
        }
        // After a run, check sees the intermediates as current and plans every stage against them.
        RunMulti(path, "out");
        var afterRun = MultiStageRunner.Check(MultiStageRecipe.Load(path), Path.Combine(_run.Root, "stages"), null, false, 9);
        try
        {
            Assert.Equal([StageStatus.Current, StageStatus.Current, StageStatus.Checked], afterRun.Select(c => c.Outcome.Status));
            Assert.All(afterRun, c => Assert.NotNull(c.Planned));
        }
        finally
        {
            foreach (var (_, p) in afterRun) p?.Dispose();
        }
    }
}
