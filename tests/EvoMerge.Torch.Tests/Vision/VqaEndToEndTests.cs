using EvoMerge.Evaluation;
using EvoMerge.TestSupport;
using EvoMerge.Torch.Tests.Cli;
using EvoMerge.Torch.Vision.Runtime;

namespace EvoMerge.Torch.Tests.Vision;

/// <summary>
/// A random tiny llava with Mistral's real tokenizer (32000 pieces; vocabulary 32064 with the image token at 32000,
/// as LLaVA-1.6-Mistral) on real photos: the whole route — decoding, preprocessing, prompt encoding with image
/// expansion, features, generation — gives the reference's greedy token, and `evomerge eval --task vqa` runs on it.
/// </summary>
public class VqaEndToEndTests
{
    const string Tokenizer = "tokenizers/mistral-7b-v0.1/tokenizer.model";

    [SharedDataFact(Tokenizer)]
    public void PhotoPromptsGiveTheReferenceTokenAndEvalScoresThem()
    {
        if (!PythonReference.Has("torch") || !SharedData.Has("images/chelsea.png")) return;   // both are needed; each skip is reported by its own tests
        string dir = LlavaFixture.Make(seed: 9, vocab: 32064, imageToken: 32000);
        try
        {
            File.Copy(SharedData.PathOf(Tokenizer), Path.Combine(dir, "tokenizer.model"));
            string data = Path.Combine(dir, "vqa");
            Directory.CreateDirectory(data);
            foreach (var name in new[] { "chelsea.png", "rocket.jpg" }) File.Copy(SharedData.PathOf("images/" + name), Path.Combine(data, name));

            string[] images = [Path.Combine(data, "chelsea.png"), Path.Combine(data, "rocket.jpg")];
            var prompts = images.Select(i => new VisionPrompt("[INST] <image>\nこれは何ですか? [/INST]", [i])).ToArray();
            string[] replies;
            List<float[]> expected;
            int[][] ids;
            using (var vlm = LoadedVlm.Load(dir))
            {
                var model = new TorchVisionLanguageModel(vlm, batchSize: 2);
                ids = prompts.Select(p => model.Encode(p).ToArray()).ToArray();
                Assert.All(ids, i => Assert.Equal(16, i.Count(t => t == 32000)));
                var pixels = images.Select(i => vlm.PixelValues([i]).data<float>().ToArray()).ToArray();
                expected = LlavaFixture.Logits(dir, ids.Select((x, k) => new LlavaFixture.Case(x, pixels[k])).ToArray(), 32064);
                replies = model.Generate(prompts, new GenerationOptions(MaxNewTokens: 1)).ToArray();
                for (int k = 0; k < 2; k++)
                {
                    var last = expected[k].AsSpan((ids[k].Length - 1) * 32064, 32064).ToArray();
                    Assert.Equal(vlm.Tokenizer!.Decode([Array.IndexOf(last, last.Max())]), replies[k]);
                }
            }

            string jsonl = Path.Combine(data, "set.jsonl");
            File.WriteAllLines(jsonl, [
                """{"image": "chelsea.png", "question": "何の動物?", "answers": ["猫"]}""",
                """{"image": "rocket.jpg", "question": "何が見える?", "answers": ["ロケット", "発射台"]}""",
            ]);
            var (code, stdout, stderr) = CliRunner.Run("eval", dir, "--task", "vqa", "--data", jsonl, "--max-new-tokens", "3");
            Assert.True(code == 0, stderr + stdout);
            Assert.Contains("rouge_l", stdout);

            // generate --image runs on the same folder; a missing image is a one-line error naming it.
            (code, stdout, stderr) = CliRunner.Run("generate", dir, "--image", images[0], "これは何ですか?", "--max-new-tokens", "1");
            Assert.True(code == 0, stderr);
            string missing = Path.Combine(data, "missing.png");
            (code, stdout, stderr) = CliRunner.Run("generate", dir, "--image", missing, "質問");
            Assert.NotEqual(0, code);
            Assert.Contains($"{missing}: image not found", stderr + stdout);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
