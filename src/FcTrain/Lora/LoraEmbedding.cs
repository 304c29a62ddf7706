using FcTrain.Models;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace FcTrain.Lora;

/// <summary>
/// A frozen embedding table with an optional low-rank update, as PEFT's lora.Embedding:
///
///     e(i) = W[i] + (Aᵀ[i] · Bᵀ) · scaling        W: (vocab, dim), A: (r, vocab), B: (dim, r)
///
/// PEFT stores the factors as bare parameters <c>lora_embedding_A</c> / <c>lora_embedding_B</c> and initialises them
/// the other way round from linear layers (A zero, B normal), still starting from the unchanged table.
/// Like PEFT, no dropout on token ids.
/// </summary>
public sealed class LoraEmbedding : Module<Tensor, Tensor>
{
    [ComponentName(Name = "weight")] private Parameter weight;                  // (vocab, dim), frozen
    [ComponentName(Name = "lora_embedding_A")] private Parameter? loraA;        // (r, vocab)
    [ComponentName(Name = "lora_embedding_B")] private Parameter? loraB;        // (dim, r)

    public Parameter Weight => weight;
    public Parameter? LoraA => loraA;
    public Parameter? LoraB => loraB;
    public double Scaling { get; private set; }
    private Scalar? scaling;   // Scaling, held for the op (see Scalars)

    public LoraEmbedding(string name, long vocab, long dim, ScalarType dtype, Device device) : base(name)
    {
        weight = new Parameter(empty(vocab, dim, dtype, device), requires_grad: false);
        RegisterComponents();
    }

    public void AddAdapter(LoraConfig config)
    {
        long vocab = Weight.shape[0], dim = Weight.shape[1];
        loraA = new Parameter(zeros(config.Rank, vocab, ScalarType.Float32, Weight.device));
        loraB = new Parameter(empty(dim, config.Rank, ScalarType.Float32, Weight.device));
        using (no_grad()) init.normal_(loraB);
        Scaling = config.Scaling;
        scaling = Scaling.ToScalar();
        register_parameter("lora_embedding_A", loraA);
        register_parameter("lora_embedding_B", loraB);
    }

    public override Tensor forward(Tensor ids)
    {
        var y = Lookup(Weight, ids);                                 // (B, T, C)
        if (loraA is null || loraB is null) return y;
        var a = Lookup(loraA.t(), ids);                              // (B, T, r)
        return y.add((a.matmul(loraB.t()) * scaling!).to(y.dtype), alpha: Scalars.One);   // (B, T, C)
    }

    private static Tensor Lookup(Tensor table, Tensor ids) =>
        table.index_select(0, ids.reshape(-1)).reshape([.. ids.shape, table.shape[1]]);
}
