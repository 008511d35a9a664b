using EvoMerge.Anatomy;
using EvoMerge.TestSupport;
using System.Text.Json;
using EvoMerge.IO;
using EvoMerge.Merge.Execution;
using EvoMerge.Merge.Methods;

namespace EvoMerge.Tests.Merge;

/// <summary>
/// Every method against Fixtures/merge/methods_golden.json, written by methods_reference.py (an independent numpy
/// implementation from the papers, float64): random tensors plus the edge cases — density 0 and 1, agreeing and
/// conflicting signs, parallel/antiparallel slerp, one model, weights summing to zero, both compat modes.
/// </summary>
public class MethodGoldenTests
{
    public static IEnumerable<object[]> Cases() =>
        Load().Select(c => new object[] { c.GetProperty("label").GetString()! });

    static List<JsonElement> Load()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "merge", "methods_golden.json");
        return JsonDocument.Parse(File.ReadAllText(path)).RootElement.EnumerateArray().ToList();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_numpy_reference(string label)
    {
        var c = Load().Single(x => x.GetProperty("label").GetString() == label);
        var method = MergeMethods.Get(c.GetProperty("method").GetString()!);
        string name = c.GetProperty("name").GetString()!;
        long[] shape = c.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        var sources = new List<IWeightSource>();
        TensorInput? baseInput = null;
        if (c.GetProperty("base").ValueKind != JsonValueKind.Null)
        {
            sources.Add(new InMemoryWeights("base").Add(name, shape, Floats(c.GetProperty("base"))));
            baseInput = new TensorInput(0, name);
        }
        var inputs = new List<TensorInput>();
        foreach (var m in c.GetProperty("models").EnumerateArray())
        {
            inputs.Add(new TensorInput(sources.Count, name));
            sources.Add(new InMemoryWeights($"m{sources.Count}").Add(name, shape, Floats(m)));
        }
        var job = new MergeJob(name, shape, baseInput, inputs.ToArray(), new TensorPosition(TensorPlace.OfLayer(0), 0, 0));
        var plan = new MergePlan(method, sources, [job]);
        var parameters = new TableParameters(c.GetProperty("globals"), c.GetProperty("per_model").EnumerateArray().ToArray());
        var target = new CollectingTarget();
        var compat = c.GetProperty("compat").GetString() == "mergekit" ? MergeCompat.Mergekit : MergeCompat.Paper;
        MergeExecutor.Run(plan, parameters, target, new MergeOptions { Seed = c.GetProperty("seed").GetUInt64(), Compat = compat, Threads = 1 });

        float[] expected = Floats(c.GetProperty("expected"));
        float[] actual = target[name];
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 2e-4 + 2e-4 * Math.Abs(expected[i]),
                $"{label}: element {i} is {actual[i]}, reference {expected[i]}");
    }

    static float[] Floats(JsonElement e) => e.EnumerateArray().Select(x => (float)x.GetDouble()).ToArray();

    /// <summary>Parameters from the golden file's dictionaries, falling back to the method's declared defaults.</summary>
    sealed class TableParameters(JsonElement globals, JsonElement[] perModel) : IMergeParameters
    {
        public double Global(ParameterDef parameter, MergeJob job) => Value(globals, parameter);

        public double PerModel(ParameterDef parameter, MergeJob job, int model) => Value(perModel[model], parameter);

        static double Value(JsonElement table, ParameterDef p) =>
            !table.TryGetProperty(p.Name, out var v) ? p.Default ?? throw new InvalidOperationException("missing " + p.Name)
            : v.ValueKind switch { JsonValueKind.True => 1, JsonValueKind.False => 0, _ => v.GetDouble() };
    }
}
