using FcTrain.Lora;
using TorchSharp;
using TorchSharp.Utils;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace FcTrain.Models.Gemma2;

/// <summary>GeGLU feed-forward: down(gelu_tanh(gate(x)) · up(x)); Gemma uses the tanh approximation of GELU.</summary>
public sealed class Mlp : Module<Tensor, Tensor>
{
    [ComponentName(Name = "gate_proj")] private readonly LoraLinear gateProj;
    [ComponentName(Name = "up_proj")] private readonly LoraLinear upProj;
    [ComponentName(Name = "down_proj")] private readonly LoraLinear downProj;

    public Mlp(string name, Gemma2Config config, ScalarType dtype, Device device) : base(name)
    {
        gateProj = new LoraLinear("gate_proj", config.HiddenSize, config.IntermediateSize, dtype, device);
        upProj = new LoraLinear("up_proj", config.HiddenSize, config.IntermediateSize, dtype, device);
        downProj = new LoraLinear("down_proj", config.IntermediateSize, config.HiddenSize, dtype, device);
        RegisterComponents();
    }

    public IEnumerable<(string Name, LoraLinear Layer)> Projections() =>
        [("gate_proj", gateProj), ("up_proj", upProj), ("down_proj", downProj)];

    public override Tensor forward(Tensor x)                 // (B, T, C)
    {
        var gate = gateProj.forward(x).gelu(TorchSharp.Modules.GELU.Approximate.tanh);  // (B, T, I)
        return downProj.forward(gate * upProj.forward(x));      // (B, T, C)
    }
}
