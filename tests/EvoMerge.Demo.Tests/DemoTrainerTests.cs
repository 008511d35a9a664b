using EvoMerge.Demo;
using EvoMerge.Torch.Runtime;
using TorchSharp;

namespace EvoMerge.Demo.Tests;

public class DemoTrainerTests
{
    static string TrainTiny(int seed)
    {
        torch.set_num_threads(1);
        var dir = Directory.CreateTempSubdirectory("evomerge-demo-train").FullName;
        DemoTrainer.TrainAll(dir, seed, stepsScale: 0.005);   // 10 / 2 / 2 / 4 steps
        return dir;
    }

    [Fact]
    public void SameSeedGivesByteIdenticalModelsAndTheRuntimeLoadsThem()
    {
        string first = TrainTiny(0), second = TrainTiny(0);
        try
        {
            foreach (var folder in new[] { DemoModelShape.BaseFolder, DemoModelShape.JapaneseFolder, DemoModelShape.MathFolder, DemoModelShape.JointFolder })
                Assert.Equal(File.ReadAllBytes(Path.Combine(first, folder, "model.safetensors")),
                    File.ReadAllBytes(Path.Combine(second, folder, "model.safetensors")));
            // Fine-tunes start from the base and move away from it.
            Assert.NotEqual(File.ReadAllBytes(Path.Combine(first, "base", "model.safetensors")),
                File.ReadAllBytes(Path.Combine(first, "math", "model.safetensors")));

            // The joint fine-tune added later from base/ (replicate on older folders) is the one TrainAll trains.
            Directory.Delete(Path.Combine(second, DemoModelShape.JointFolder), recursive: true);
            DemoTrainer.TrainJoint(second, 0, stepsScale: 0.005);
            Assert.Equal(File.ReadAllBytes(Path.Combine(first, DemoModelShape.JointFolder, "model.safetensors")),
                File.ReadAllBytes(Path.Combine(second, DemoModelShape.JointFolder, "model.safetensors")));
            Assert.NotEqual(File.ReadAllBytes(Path.Combine(first, "base", "model.safetensors")),
                File.ReadAllBytes(Path.Combine(first, DemoModelShape.JointFolder, "model.safetensors")));
            Assert.Contains("joint (ja + math)\t", File.ReadAllText(Path.Combine(second, "train-log.tsv")));

            using var loaded = LoadedModel.Load(Path.Combine(first, DemoModelShape.MathFolder));
            Assert.Equal(4, loaded.Model.Config.NumLayers);
            Assert.False(loaded.Model.Config.TieWordEmbeddings);
            string line = "問: 太郎はりんごを3個持っています。5個買いました。全部で何個ですか?\n答え: 8個です。";
            Assert.Equal(new CharacterTokenizer().Encode(line, addBos: true), loaded.Tokenizer.Encode(line, addBos: true));
            Assert.Equal(line, loaded.Tokenizer.Decode(loaded.Tokenizer.Encode(line, addBos: true)));
            Assert.Contains("model\tstep\tloss", File.ReadAllText(Path.Combine(first, "train-log.tsv")));
        }
        finally
        {
            Directory.Delete(first, recursive: true);
            Directory.Delete(second, recursive: true);
        }
    }
}
