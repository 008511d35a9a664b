using System.Diagnostics;
using EvoMerge.Torch.Model;
using EvoMerge.Torch.Weights;
using static TorchSharp.torch;

namespace EvoMerge.Bench.Runtime;

/// <summary>EvoMerge's TorchSharp runtime: one batched prefill, then one forward per decode step, with the KV cache.</summary>
public sealed class TorchRuntimeEngine : IDisposable
{
    readonly LlamaForCausalLM model;

    public TorchRuntimeEngine(LlamaConfig config, List<(string Name, long[] Shape, float[] Values)> weights, ScalarType dtype, int threads)
    {
        set_num_threads(threads);
        model = new LlamaForCausalLM(config, CPU, dtype);
        var target = new ResidentWeights(model, config.TieWordEmbeddings);
        foreach (var (name, shape, values) in weights) target.Accept(name, shape, values);
    }

    public LlamaForCausalLM Model => model;

    public Throughput Run(ThroughputCase c, int seed)
    {
        var rng = new Random(seed);
        var prompt = Enumerable.Range(0, c.Batch * c.Prompt).Select(_ => (long)rng.Next(3, model.Config.VocabSize)).ToArray();
        using var noGrad = no_grad();
        using var cache = model.NewCache(c.Batch, c.Prompt + c.Decode);
        var clock = Stopwatch.StartNew();
        Tensor next;
        using (var scope = NewDisposeScope())
            next = model.Forward(tensor(prompt, [c.Batch, c.Prompt]), cache, null, lastOnly: true).argmax(-1).MoveToOuterDisposeScope();
        double prefill = clock.Elapsed.TotalSeconds;
        clock.Restart();
        for (int step = 0; step < c.Decode; step++)
        {
            using var scope = NewDisposeScope();
            var ids = next;
            next = model.Forward(ids, cache, null, lastOnly: true).argmax(-1).MoveToOuterDisposeScope();
            ids.Dispose();
        }
        _ = next.data<long>()[0];
        double decode = clock.Elapsed.TotalSeconds;
        next.Dispose();
        return new(c.Batch * c.Prompt / prefill, c.Batch * c.Decode / decode);
    }

    public void Dispose() => model.Dispose();
}
