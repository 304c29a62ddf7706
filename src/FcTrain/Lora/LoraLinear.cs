using FcTrain.Models;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
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
    [ComponentName(Name = "weight")] private readonly Parameter? weight;   // (out, in), frozen; null when tied
    [ComponentName(Name = "lora_A")] private Linear? loraA;                // (r, in)
    [ComponentName(Name = "lora_B")] private Linear? loraB;                // (out, r)
    [ComponentName(Name = "lora_dropout")] private Dropout? dropout;
    private readonly Func<Parameter>? tiedWeight;

    public Parameter Weight => weight ?? tiedWeight!();
    public Linear? LoraA => loraA;
    public Linear? LoraB => loraB;
    public double Scaling { get; private set; }
    private Scalar? scaling;   // Scaling, held for the op (see Scalars)

    public LoraLinear(string name, long inFeatures, long outFeatures, ScalarType dtype, Device device) : base(name)
    {
        weight = new Parameter(empty(outFeatures, inFeatures, dtype, device), requires_grad: false);
        RegisterComponents();
    }

    /// <summary>A projection whose weight belongs to another module (Gemma's lm_head is tied to embed_tokens), so
    /// it is not registered here and appears once in the state dict, as in the HF checkpoint.</summary>
    private LoraLinear(string name, Func<Parameter> tiedWeight) : base(name)
    {
        this.tiedWeight = tiedWeight;
        RegisterComponents();
    }

    public static LoraLinear Tied(string name, Func<Parameter> weight) => new(name, weight);

    /// <summary>Adds an adapter initialised as PEFT does: A Kaiming-uniform (a = √5), B zero, so the layer is unchanged.</summary>
    public void AddAdapter(LoraConfig config)
    {
        long outFeatures = Weight.shape[0], inFeatures = Weight.shape[1];
        loraA = Linear(inFeatures, config.Rank, hasBias: false, device: Weight.device, dtype: ScalarType.Float32);
        loraB = Linear(config.Rank, outFeatures, hasBias: false, device: Weight.device, dtype: ScalarType.Float32);
        using (no_grad())
        {
            init.kaiming_uniform_(loraA.weight!, a: Math.Sqrt(5));
            init.zeros_(loraB.weight!);
        }
        dropout = Dropout(config.Dropout);
        Scaling = config.Scaling;
        scaling = Scaling.ToScalar();
        register_module("lora_A", loraA);
        register_module("lora_B", loraB);
        register_module("lora_dropout", dropout);
    }

    public override Tensor forward(Tensor x)
    {
        var y = functional.linear(x, Weight);
        if (LoraInput(x) is not { } u) return y;
        // In place: y is not saved for backward, and on the head it is a (N, V) buffer a copy would double.
        return y.add_(loraB!.forward(u).to(y.dtype), alpha: Scalars.One);
    }

    /// <summary>The adapter's input to B, s · A(dropout(x)) (…, r) in float32, or null without an adapter. The scaling is
    /// applied on this rank-r side, where it costs r values per position instead of out_features.</summary>
    public Tensor? LoraInput(Tensor x) =>
        loraA is null ? null : loraA.forward(dropout!.forward(x.to(ScalarType.Float32))).mul(scaling!);
}
