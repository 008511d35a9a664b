using EvoMerge.Candidates;
using EvoMerge.Evaluation;

namespace EvoMerge.Cluster.Tests;

public class WorkWireTests
{
    [Fact]
    public void Work_round_trips_through_json_with_every_kind_of_subset_and_keys_by_content()
    {
        Subset[] subsets = [Subset.All, Subset.First(3), Subset.Sample(4, 99), Subset.Indices([5, 1, 7])];
        foreach (var subset in subsets)
        {
            var work = new CandidateWork("9", new PathBuild(new LayerPath(["/m/a", "/m/b"], [new PathStep(0, 1), new PathStep(1, 0, 0.1 + 0.2)])),
                [new TaskWork(new EvalTaskSpec(TaskKind.Mgsm, "/d/mgsm_ja.tsv", Shots: 2, Language: "ja"), subset)]);
            string json = WorkWire.Encode(work);
            var back = WorkWire.DecodeWork(json);
            Assert.Equal(subset.Resolve(10), back.Tasks[0].Subset.Resolve(10));
            Assert.Equal(subset.GetType(), back.Tasks[0].Subset.GetType());
            Assert.Equal(0.30000000000000004, ((PathBuild)back.Build).Path.Steps[1].Scale);   // doubles exactly
            Assert.Equal(work.Tasks[0].Spec, back.Tasks[0].Spec);
            Assert.Equal(json, WorkWire.Encode(back));
            Assert.Equal(WorkWire.KeyOf(json), WorkWire.KeyOf(WorkWire.Encode(work with { Key = "other batch, same work" })));
        }
    }
}
