using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace FcTrain.Lora;

/// <summary>
/// A frozen linear layer with an optional low-rank update (LoRA, Hu et al. 2021), as PEFT's lora.Linear:
///
///     y = x Wᵀ + B(A(dropout(x))) · scaling        W: (out, in) frozen, A: (r, in), B: (out, r)
///
/// The base weight keeps its Hugging Face name (<c>q_proj.weight</c>); the adapter adds <c>lora_A.weight</c> and
/// <c>lora_B.weight</c>, PEFT's saved names. Adapter weights live in float32 whatever the base dtype (PEFT's
/// autocast_adapter_dtype), so bf16 training still accumulates the update in full precision.
/// </summary>
public sealed class LoraLinear : Module<Tensor, Tensor>
{
    public Parameter Weight { get; }
    public Linear? LoraA { get; private set; }
    public Linear? LoraB { get; private set; }
    public double Scaling { get; private set; }
    private Dropout? _dropout;

    public LoraLinear(string name, long inFeatures, long outFeatures, ScalarType dtype, Device device) : base(name)
    {
        Weight = new Parameter(empty(outFeatures, inFeatures, dtype, device), requires_grad: false);
        register_parameter("weight", Weight);
    }

    /// <summary>A projection whose weight belongs to another module (Gemma's lm_head is tied to embed_tokens),
    /// so it is not registered here and appears once in the state dict, as in the HF checkpoint.</summary>
    private LoraLinear(string name, Parameter tiedWeight) : base(name) => Weight = tiedWeight;

    public static LoraLinear Tied(string name, Parameter weight) => new(name, weight);

    /// <summary>Adds an adapter initialised as PEFT does: A Kaiming-uniform (a = √5), B zero, so the layer is unchanged.</summary>
    public void AddAdapter(LoraConfig config)
    {
        long outFeatures = Weight.shape[0], inFeatures = Weight.shape[1];
        LoraA = Linear(inFeatures, config.Rank, hasBias: false, device: Weight.device, dtype: ScalarType.Float32);
        LoraB = Linear(config.Rank, outFeatures, hasBias: false, device: Weight.device, dtype: ScalarType.Float32);
        using (no_grad())
        {
            init.kaiming_uniform_(LoraA.weight!, a: Math.Sqrt(5));
            init.zeros_(LoraB.weight!);
        }
        _dropout = Dropout(config.Dropout);
        Scaling = config.Scaling;
        register_module("lora_A", LoraA);
        register_module("lora_B", LoraB);
        register_module("lora_dropout", _dropout);
    }

    public override Tensor forward(Tensor x)
    {
        var y = functional.linear(x, Weight);
        if (LoraA is null || LoraB is null) return y;
        var update = LoraB.forward(LoraA.forward(_dropout!.forward(x.to(ScalarType.Float32))));
        return y + (update * Scaling).to(y.dtype);
    }
}
