using EvoMerge.Merge.Recipes;
using EvoMerge.Anatomy;
using EvoMerge.Evolution.Spaces;

namespace EvoMerge.Tests.Evolution;

public class MergekitRecipeWriterTests
{
    [Fact]
    public void Groups_become_filters_and_per_layer_lists_in_mergekit_syntax()
    {
        TensorGroup[] groups =
        [
            new("embeddings", 0, 1, [GroupPart.Embeddings, GroupPart.Head]),
            new("layer 0", 0, 0, [GroupPart.Attention, GroupPart.Mlp]),
            new("layer 1", 1, 1, [GroupPart.Attention, GroupPart.Mlp]),
        ];
        double[][][] values = [[[0.5, 0.9]], [[0.25, 0.9]], [[0.75, 0.9]]];
        var recipe = new GroupedRecipe("dare_ties", "/m/base", ["/m/a"], ["weight", "density"], groups, values);
        Assert.Equal("""
            merge_method: dare_ties
            base_model: '/m/base'
            dtype: bfloat16
            models:
              - model: '/m/a'
                parameters:
                  weight:
                    - filter: embed_tokens
                      value: 0.5
                    - filter: lm_head
                      value: 0.5
                    - filter: model.norm
                      value: 0.5
                    - value: [0.25, 0.75]
                  density:
                    - filter: embed_tokens
                      value: 0.9
                    - filter: lm_head
                      value: 0.9
                    - filter: model.norm
                      value: 0.9
                    - value: 0.9

            """, MergekitRecipeWriter.Write(recipe, layerCount: 2));
    }
}
