using System.Diagnostics;
using System.Text.Json.Nodes;
using EvoMerge.Evolution.Run;
using EvoMerge.IO;
using EvoMerge.TestSupport;
using EvoMerge.Torch.Tests.Cli;
using EvoMerge.Torch.Vision.Runtime;

namespace EvoMerge.Torch.Tests.Vision;

/// <summary>
/// Issue 15 §4 end to end: <c>evomerge evolve</c> with the vqa task over a tiny VLM (random llava, Mistral's real
/// tokenizer, vocabulary 32064) and a text LLM sharing a base with it, as a PS search (dare_ties by CMA-ES). The run
/// is killed with SIGKILL mid-search and resumed: its journal equals an uninterrupted run's (timings aside); the
/// fitness decodes with beam search (3 beams) and repetition penalty 1.5 as the paper's evaluation; the
/// report is written; the best model is a llava folder the runtime loads, its vision tower the VLM's bit for bit,
/// and the text sources are scored blind on the test set.
/// </summary>
public class VlmEvolveTests
{
    const string Tokenizer = "tokenizers/mistral-7b-v0.1/tokenizer.model";
    static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "EvoMerge.Cli.dll");
    static string Script => Path.Combine(AppContext.BaseDirectory, "Reference", "vlm_merge_reference.py");

    [SharedDataFact(Tokenizer)]
    public void EvolveWithVqaOnAVlmAndAnLlmResumesAfterKillNineAndWritesALlava()
    {
        if (!PythonReference.Has("torch") || !SharedData.Has("images/chelsea.png")) return;   // each skip is reported by its own tests
        string root = Directory.CreateTempSubdirectory("vlm-evolve-").FullName;
        try
        {
            var (vlm, baseLlm, jp) = MakeSources(root);
            string config = Path.Combine(root, "evolve.yml");
            File.WriteAllText(config, $"""
                name: vlm
                seed: 3
                base_model: {baseLlm}
                models: [{vlm}, {jp}]
                ps: {"{"} method: dare_ties, layer_groups: 1 {"}"}
                optimizer: {"{"} population: 4, generations: 5 {"}"}
                fitness:
                  - {"{"} task: vqa, data: set.jsonl, template: evovlm-ja, max_new_tokens: 3, num_beams: 3, repetition_penalty: 1.5 {"}"}
                test:
                  - {"{"} task: vqa, data: set.jsonl, template: evovlm-ja, max_new_tokens: 3 {"}"}
                """);
            string whole = Path.Combine(root, "whole"), killed = Path.Combine(root, "killed");
            var (wholeCode, wholeOut) = Wait(Evolve(config, whole));
            Assert.True(wholeCode == 0, wholeOut);

            using (var run = Evolve(config, killed))
            {
                run.OutputDataReceived += (_, _) => { };
                run.ErrorDataReceived += (_, _) => { };
                run.BeginOutputReadLine();
                run.BeginErrorReadLine();
                string journal = new RunFolder(killed).JournalFile;
                var watch = Stopwatch.StartNew();
                while (LineCount(journal) < 7 && !run.HasExited && watch.Elapsed < TimeSpan.FromMinutes(3)) Thread.Sleep(20);
                Assert.False(run.HasExited, "the run finished before it could be killed");
                run.Kill();   // SIGKILL
                run.WaitForExit();
            }
            int atKill = LineCount(new RunFolder(killed).JournalFile);
            Assert.InRange(atKill, 7, 5 * 4 - 1);
            var (resumedCode, resumedOut) = Wait(Evolve(config, killed, "--resume"));
            Assert.True(resumedCode == 0, resumedOut);
            Assert.Equal(Untimed(whole), Untimed(killed));

            // The text sources were scored blind on the test set; the report is written.
            Assert.Contains(Untimed(killed), l => l.Contains("source: " + jp.Replace("\\", "\\\\")));
            Assert.Equal(0, CliRunner.Run("report", killed).Code);
            Assert.True(File.Exists(Path.Combine(killed, "report", "index.html")));

            // The best model: a llava folder the runtime loads, vision tower and projector the VLM's bytes.
            string best = new RunFolder(killed).BestModel;
            using (var loaded = LoadedVlm.Load(best)) Assert.Equal(32064, loaded.Model.Config.Text.VocabSize);
            using var source = ModelFolder.Open(vlm);
            using var merged = ModelFolder.Open(best);
            // The I64 position_ids buffer is left out, as by `evomerge merge` (transformers rebuilds it).
            var vision = source.Weights.Tensors.Where(t => source.Anatomy.DecoderName(t.Name) == null && t.DType.IsFloat()).ToList();
            Assert.NotEmpty(vision);
            Assert.Contains(source.Weights.Tensors, t => t.DType == DType.I64);
            foreach (var t in vision) Assert.True(source.Weights.GetBytes(t.Name).SequenceEqual(merged.Weights.GetBytes(t.Name)), t.Name);
            Directory.Delete(vlm, recursive: true);
        }
        finally { Directory.Delete(root, recursive: true); }
    }

    /// <summary>
    /// Issue 15 §4 with layer paths: <c>dfs</c> (the VLM as model A, the text LLM's layers beside its language
    /// model's) and <c>ps+dfs</c> (the PS result, a llava, as model A; the VLM and the LLM as layer sources). Killed with
    /// SIGKILL in the DFS stage and resumed: the journal equals an uninterrupted run's; the report is written; the
    /// best model is a llava folder whose language model is the path's stacked layers (text_config.num_hidden_layers
    /// = the path's length) and whose vision tower is the VLM's bit for bit.
    /// </summary>
    [SharedDataFact(Tokenizer)]
    public void EvolveDfsWithTheVlmAsModelAResumesAfterKillNineAndWritesALlava() => EvolveLayerPaths("dfs");

    [SharedDataFact(Tokenizer)]
    public void EvolvePsThenDfsWithAVlmResumesAfterKillNineAndWritesALlava() => EvolveLayerPaths("ps+dfs");

    static void EvolveLayerPaths(string space)
    {
        if (!PythonReference.Has("torch") || !SharedData.Has("images/chelsea.png")) return;   // each skip is reported by its own tests
        string root = Directory.CreateTempSubdirectory("vlm-dfs-evolve-").FullName;
        try
        {
            var (vlm, baseLlm, jp) = MakeSources(root);
            string config = Path.Combine(root, "evolve.yml");
            File.WriteAllText(config, $"""
                name: vlm-{space.Replace('+', '-')}
                seed: 4
                space: {space}
                base_model: {baseLlm}
                models: [{vlm}, {jp}]
                ps: {"{"} method: dare_ties, layer_groups: 1 {"}"}
                dfs: {"{"} repeats: 1 {"}"}
                optimizer: {"{"} population: 4, generations: 3 {"}"}
                fitness:
                  - {"{"} task: vqa, data: set.jsonl, template: evovlm-ja, max_new_tokens: 3, num_beams: 2, repetition_penalty: 1.5 {"}"}
                test:
                  - {"{"} task: vqa, data: set.jsonl, template: evovlm-ja, max_new_tokens: 3 {"}"}
                """);
            string whole = Path.Combine(root, "whole"), killed = Path.Combine(root, "killed");
            var (wholeCode, wholeOut) = Wait(Evolve(config, whole));
            Assert.True(wholeCode == 0, wholeOut);
            int total = LineCount(new RunFolder(whole).JournalFile);
            var stageOf = File.ReadAllLines(new RunFolder(whole).JournalFile).Select(l => (string)JsonNode.Parse(l)!["stage"]!).ToList();
            int firstDfs = stageOf.IndexOf("dfs");
            Assert.True(firstDfs >= 0, "no dfs entries in the journal");

            using (var run = Evolve(config, killed))
            {
                run.OutputDataReceived += (_, _) => { };
                run.ErrorDataReceived += (_, _) => { };
                run.BeginOutputReadLine();
                run.BeginErrorReadLine();
                string journal = new RunFolder(killed).JournalFile;
                var watch = Stopwatch.StartNew();
                // Killed inside the DFS stage, after its first candidates are journaled.
                while (LineCount(journal) < firstDfs + 3 && !run.HasExited && watch.Elapsed < TimeSpan.FromMinutes(3)) Thread.Sleep(20);
                Assert.False(run.HasExited, "the run finished before it could be killed");
                run.Kill();   // SIGKILL
                run.WaitForExit();
            }
            Assert.InRange(LineCount(new RunFolder(killed).JournalFile), firstDfs + 3, total - 1);
            var (resumedCode, resumedOut) = Wait(Evolve(config, killed, "--resume"));
            Assert.True(resumedCode == 0, resumedOut);
            Assert.Equal(Untimed(whole), Untimed(killed));
            Assert.Equal(0, CliRunner.Run("report", killed).Code);
            Assert.True(File.Exists(Path.Combine(killed, "report", "index.html")));

            // Model A: the VLM (dfs) or the PS stage's llava (ps+dfs); the best model is a llava with the path's layers.
            var folder = new RunFolder(killed);
            var path = JsonNode.Parse(File.ReadAllText(folder.BestPath("dfs")))!;
            string modelA = (string)path["models"]![0]!;
            Assert.Equal(space == "dfs" ? vlm : folder.StageModel("ps"), modelA);
            int steps = path["steps"]!.AsArray().Count;
            using (var loaded = LoadedVlm.Load(folder.BestModel))
            {
                Assert.Equal(steps, loaded.Model.Config.Text.NumLayers);
                Assert.Equal(32064, loaded.Model.Config.Text.VocabSize);
            }
            using var source = ModelFolder.Open(vlm);
            using var best = ModelFolder.Open(folder.BestModel);
            var vision = source.Weights.Tensors.Where(t => source.Anatomy.Place(t.Name).Module == EvoMerge.Anatomy.ModelModule.VisionTower && t.DType.IsFloat()).ToList();
            Assert.NotEmpty(vision);
            foreach (var t in vision) Assert.True(source.Weights.GetBytes(t.Name).SequenceEqual(best.Weights.GetBytes(t.Name)), t.Name);
            Assert.True(File.Exists(Path.Combine(folder.BestModel, "tokenizer.model")));
            Assert.True(File.Exists(Path.Combine(folder.BestModel, "preprocessor_config.json")));
            Directory.Delete(vlm, recursive: true);
        }
        finally { Directory.Delete(root, recursive: true); }
    }

    /// <summary>
    /// A random llava (vocabulary 32064, image token 32000, Mistral's tokenizer) in a temp folder, a base LLM and a
    /// "Japanese" LLM made from its language model plus noise (32000 rows), two real photos and a two-item vqa set.
    /// </summary>
    static (string Vlm, string BaseLlm, string Jp) MakeSources(string root)
    {
        string vlm = LlavaFixture.Make(seed: 9, vocab: 32064, imageToken: 32000);
        string baseLlm = Path.Combine(root, "base"), jp = Path.Combine(root, "jp");
        foreach (var (dir, seed) in new[] { (baseLlm, 1), (jp, 2) })
        {
            var (code, _, err) = PythonReference.Run($"\"{Script}\" make-llm \"{vlm}\" \"{dir}\" --seed {seed} --rows 32000", TimeSpan.FromMinutes(2));
            Assert.True(code == 0, err);
        }
        AddPositionIds(vlm);
        foreach (var dir in new[] { vlm, baseLlm, jp }) File.Copy(SharedData.PathOf(Tokenizer), Path.Combine(dir, "tokenizer.model"));
        foreach (var name in new[] { "chelsea.png", "rocket.jpg" }) File.Copy(SharedData.PathOf("images/" + name), Path.Combine(root, name));
        File.WriteAllLines(Path.Combine(root, "set.jsonl"), [
            """{"image": "chelsea.png", "question": "何の動物?", "answers": ["猫"]}""",
            """{"image": "rocket.jpg", "question": "何が見える?", "answers": ["ロケット", "発射台"]}""",
        ]);
        return (vlm, baseLlm, jp);
    }

    /// <summary>
    /// Adds the integer buffer older CLIP checkpoints store (<c>vision_model.embeddings.position_ids</c>, I64 [1, positions]):
    /// the merge plan and the runtime leave it alone, a layer-stacked llava copies its bytes.
    /// </summary>
    static void AddPositionIds(string vlm)
    {
        const string Name = "vision_tower.vision_model.embeddings.position_ids";
        string file = Path.Combine(vlm, "model.safetensors"), rewritten = Path.Combine(vlm, "with-position-ids");
        using (var model = SafetensorsModel.Open(file))
        {
            long positions = model.Tensors.Single(t => t.Name.EndsWith("position_embedding.weight", StringComparison.Ordinal)).Shape[0];
            using var writer = SafetensorsWriter.Create(rewritten,
                model.Tensors.Select(t => new TensorSpec(t.Name, t.DType, t.Shape)).Append(new TensorSpec(Name, DType.I64, [1, positions])));
            foreach (var t in model.Tensors) writer.WriteBytes(t.Name, model.GetBytes(t.Name));
            var ids = Enumerable.Range(0, (int)positions).Select(i => (long)i).ToArray();
            writer.WriteBytes(Name, System.Runtime.InteropServices.MemoryMarshal.AsBytes(ids.AsSpan()));
            writer.Complete();
        }
        File.Move(Path.Combine(rewritten, "model.safetensors"), file, overwrite: true);
        Directory.Delete(rewritten, recursive: true);
    }

    static Process Evolve(string config, string runDir, params string[] extra)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])[Cli, "evolve", config, "--run-dir", runDir, "--threads", "1", "--dtype", "f32", .. extra])
            psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    static (int Code, string Output) Wait(Process p)
    {
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5))) { p.Kill(); throw new TimeoutException("evomerge evolve ran past 5 minutes"); }
        p.WaitForExit();
        return (p.ExitCode, stderr.Result + stdout.Result);
    }

    static int LineCount(string file)
    {
        if (!File.Exists(file)) return 0;
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        int lines = 0, b;
        while ((b = stream.ReadByte()) >= 0) if (b == '\n') lines++;
        return lines;
    }

    /// <summary>Journal lines without timings; the run folder's own path (ps+dfs: model A is its PS stage's model) as "&lt;run&gt;".</summary>
    static List<string> Untimed(string runDir) => File.ReadAllLines(new RunFolder(runDir).JournalFile)
        .Select(line =>
        {
            var entry = JsonNode.Parse(line.Replace(runDir, "<run>", StringComparison.Ordinal))!.AsObject();
            entry.Remove("build_seconds");
            entry.Remove("score_seconds");
            return entry.ToJsonString();
        })
        .ToList();
}
