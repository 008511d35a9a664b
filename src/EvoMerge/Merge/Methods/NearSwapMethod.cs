namespace EvoMerge.Merge.Methods;

/// <summary>
/// "nearswap": take the other model's value where it is close to the base. Per entry, w = clamp(t / |base − x|, 0, 1)
/// (1 where they are equal) and out = w·x + (1 − w)·base.
/// </summary>
public sealed class NearSwapMethod : MergeMethod
{
    public override string Name => "nearswap";
    public override string Description => "swap in the other model's entries that lie within t of the base";
    public override string Reference => "https://huggingface.co/alchemonaut/QuartetAnemoi-70B-t0.0001";
    public override BaseModelUse BaseUse => BaseModelUse.Required;
    public override int MaxModels => 1;
    static readonly MethodParameters Declared = new();
    static readonly GlobalNumber T = Declared.Number("t", null, "distance below which entries are swapped");
    protected override MethodParameters Parameters => Declared;

    public override bool IsElementwise(MergeCompat compat) => true;

    public override void Merge(TensorMergeContext input, Span<float> output)
    {
        float t = (float)input[T];
        var b = input.Base;
        var x = input.Model(0);
        for (int i = 0; i < output.Length; i++)
        {
            float distance = Math.Abs(b[i] - x[i]);
            float w = distance == 0 ? 1 : Math.Clamp(t / distance, 0, 1);
            output[i] = w * x[i] + (1 - w) * b[i];
        }
    }
}
