using EvoMerge.Candidates;
using EvoMerge.Evolution.Config;
using EvoMerge.Evolution.Spaces;

namespace EvoMerge.Tests.Evolution;

public class DfsSpaceTests
{
    // Model A has 4 layers, B 3; two repeats; A's layers 0 and 3 are the fixed ends, so each repeat lays out
    // the slots A1 A2 B0 B1 B2 and T = 10.
    static DfsSpace Space(DfsConfig config) => new(config, ["A", "B"], [4, 3]);

    static LayerPath Decode(DfsSpace space, double[] genome) => ((PathBuild)space.Decode(genome)).Path;

    static readonly double[] Indicators = [0.9, 0.2, 0.6, 0.4, 0.7, /* repeat 2 */ 0.55, 0, 0, 0, 0];

    [Fact]
    public void Used_slots_in_order_between_the_fixed_ends_with_model_pair_scales()
    {
        var space = Space(new DfsConfig { Repeats = 2 });
        Assert.Equal(10, space.SlotCount);
        Assert.Equal(10 + 4, space.Dimension);
        // W coordinates [A→A, A→B, B→A, B→B] = [0.5, 0.25, 0.75, 1] · scale_max 2 = [1, 0.5, 1.5, 2].
        var path = Decode(space, [.. Indicators, 0.5, 0.25, 0.75, 1.0]);
        Assert.Equal(["A", "B"], path.Models);
        Assert.Equal(
            [new PathStep(0, 0, 1), new(0, 1, 1), new(1, 0, 0.5), new(1, 2, 2), new(0, 1, 1.5), new(0, 3, 1)],
            path.Steps);
        Assert.False(path.IsUnscaled);
    }

    [Fact]
    public void Over_the_length_limit_the_strongest_indicators_are_kept_in_path_order()
    {
        var space = Space(new DfsConfig { Repeats = 2, MaxPathLength = 4 });
        var path = Decode(space, [.. Indicators, 0.5, 0.25, 0.75, 1.0]);
        // Two steps fit between the ends: slot 0 (0.9, A1) and slot 4 (0.7, B2).
        Assert.Equal([new PathStep(0, 0, 1), new(0, 1, 1), new(1, 2, 0.5), new(0, 3, 1.5)], path.Steps);
    }

    [Fact]
    public void The_start_point_is_model_A_itself_unscaled()
    {
        var space = Space(new DfsConfig { Repeats = 2 });
        var path = Decode(space, space.Initial);
        Assert.Equal([new PathStep(0, 0, 1), new(0, 1, 1), new(0, 2, 1), new(0, 3, 1)], path.Steps);
        Assert.True(path.IsUnscaled);
    }

    [Fact]
    public void Each_models_own_path_is_an_anchor_with_every_scale_one()
    {
        // scale_max 4: scale 1 is the coordinate 0.25, not the middle of the range.
        var space = Space(new DfsConfig { Repeats = 2, Scales = DfsScales.PerSlot, ScaleMax = 4 });
        Assert.Equal(2, space.Anchors.Count);
        Assert.Equal(space.Initial, space.Anchors[0]);
        var a = Decode(space, space.Anchors[0]);
        Assert.Equal([new PathStep(0, 0, 1), new(0, 1, 1), new(0, 2, 1), new(0, 3, 1)], a.Steps);
        // B's three layers in order, between A's fixed first and last layers; its second repetition stays off.
        var b = Decode(space, space.Anchors[1]);
        Assert.Equal([new PathStep(0, 0, 1), new(1, 0, 1), new(1, 1, 1), new(1, 2, 1), new(0, 3, 1)], b.Steps);
        Assert.True(b.IsUnscaled);
    }

    [Fact]
    public void Without_fixed_ends_a_models_anchor_is_that_model_alone()
    {
        var space = Space(new DfsConfig { Repeats = 3, Scales = DfsScales.ModelPair, FixEnds = false });
        var b = Decode(space, space.Anchors[1]);
        Assert.Equal([new PathStep(1, 0, 1), new(1, 1, 1), new(1, 2, 1)], b.Steps);
    }

    [Fact]
    public void Layer_pair_scales_index_the_papers_M_by_M_matrix_over_all_layers()
    {
        var space = Space(new DfsConfig { Repeats = 2, Scales = DfsScales.LayerPair, FixEnds = false });
        // No fixed ends: 7 slots per repeat, T = 14, W is 7×7 over global layers A0..A3 = 0..3, B0..B2 = 4..6.
        Assert.Equal(14 + 49, space.Dimension);
        var genome = new double[space.Dimension];
        genome[1] = 0.9;                      // A1
        genome[4] = 0.9;                      // B0
        genome[14 + 1 * 7 + 4] = 0.2;         // W[A1 → B0] = 0.4
        var path = Decode(space, genome);
        Assert.Equal([new PathStep(0, 1, 1), new(1, 0, 0.4)], path.Steps);   // the first step has no previous layer: 1
    }

    [Fact]
    public void Per_slot_scales_leave_the_fixed_ends_at_one()
    {
        var space = Space(new DfsConfig { Repeats = 1, Scales = DfsScales.PerSlot });
        Assert.Equal(5 + 5, space.Dimension);
        var path = Decode(space, [0, 0, 1, 0, 0, /* scales */ 0, 0, 0.3, 0, 0]);
        Assert.Equal([new PathStep(0, 0, 1), new(1, 0, 0.6), new(0, 3, 1)], path.Steps);
    }
}
