using EvoMerge.Torch.Model.Clip;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Vision.Model;

/// <summary>LLaVA's projector from vision features to the text model's width: linear, activation (GELU), linear.</summary>
public sealed class MultiModalProjector : nn.Module
{
    readonly Linear linear_1, linear_2;
    readonly string act;

    public MultiModalProjector(LlavaConfig c, Device? device, ScalarType dtype) : base(nameof(MultiModalProjector))
    {
        int input = c.Vision.HiddenSize * c.VisionFeatureLayers.Count;
        linear_1 = nn.Linear(input, c.Text.HiddenSize, hasBias: c.ProjectorBias, device: device, dtype: dtype);
        linear_2 = nn.Linear(c.Text.HiddenSize, c.Text.HiddenSize, hasBias: c.ProjectorBias, device: device, dtype: dtype);
        act = c.ProjectorHiddenAct;
        RegisterComponents();
    }

    public Tensor Forward(Tensor features)
    {
        using var scope = NewDisposeScope();
        return linear_2.forward(Activations.Apply(act, linear_1.forward(features))).MoveToOuterDisposeScope();
    }
}
