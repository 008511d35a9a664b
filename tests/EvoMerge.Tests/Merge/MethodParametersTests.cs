using EvoMerge.Merge.Methods;

namespace EvoMerge.Tests.Merge;

/// <summary>Declared parameter handles read the value at their own declaration's position, and misuse fails loudly.</summary>
public class MethodParametersTests
{
    [Fact]
    public void Handles_read_the_values_of_their_own_declarations()
    {
        var declared = new MethodParameters().AcceptInt8Mask();
        var lambda = declared.Number("lambda", 1.0, "scale");
        var normalize = declared.Flag("normalize", true, "divide");
        var weight = declared.PerModelNumber("weight", null, "w");
        var density = declared.PerModelNumber("density", 1.0, "d");

        Assert.Equal(["int8_mask", "lambda", "normalize"], declared.Globals.Select(p => p.Name));
        Assert.Equal(["weight", "density"], declared.PerModel.Select(p => p.Name));
        Assert.True(declared.Globals[2].IsBoolean);
        double[] globals = [0, 0.25, 1];
        double[] model = [0.7, 0.3];
        Assert.Equal(0.25, lambda.Of(globals));
        Assert.True(normalize.Of(globals));
        Assert.Equal(0.7, weight.Of(model));
        Assert.Equal(0.3, density.Of(model));
    }

    [Fact]
    public void A_name_declared_twice_or_an_undeclared_handle_throws()
    {
        var declared = new MethodParameters();
        declared.Number("t", null, "t");
        Assert.Throws<InvalidOperationException>(() => declared.Flag("t", false, "again"));
        Assert.Throws<InvalidOperationException>(() => declared.PerModelNumber("t", null, "per model too"));
        Assert.Throws<InvalidOperationException>(() => default(GlobalNumber).Of([1.0]));
    }
}
