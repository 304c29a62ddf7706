using FcTrain.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace FcTrain.Lora;

/// <summary>
/// Folding a LoRA update into its base weight, as PEFT's <c>merge_and_unload</c> does, in float32 and cast
/// back to the base weight's dtype. Shapes follow PEFT's saved tensors.
/// </summary>
public static class AdapterMerge
{
    /// <summary>Linear layer: W (out, in) + scale · B (out, r) @ A (r, in).</summary>
    public static Tensor Linear(Tensor weight, Tensor loraA, Tensor loraB, double scale)
    {
        using var scope = NewDisposeScope();
        using var s = scale.ToScalar();
        var delta = loraB.to(ScalarType.Float32).matmul(loraA.to(ScalarType.Float32)) * s;              // (out, in)
        return weight.to(ScalarType.Float32).add(delta, alpha: Scalars.One).to(weight.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Embedding: W (vocab, dim) + scale · (B (dim, r) @ A (r, vocab))ᵀ. PEFT stores an embedding's adapter as
    /// <c>lora_embedding_A</c> (r, vocab) and <c>lora_embedding_B</c> (dim, r): the lookup is x → A[:, x]ᵀ Bᵀ.
    /// </summary>
    public static Tensor Embedding(Tensor weight, Tensor loraEmbeddingA, Tensor loraEmbeddingB, double scale)
    {
        using var scope = NewDisposeScope();
        using var s = scale.ToScalar();
        var delta = loraEmbeddingB.to(ScalarType.Float32).matmul(loraEmbeddingA.to(ScalarType.Float32)).T * s;     // (vocab, dim)
        return weight.to(ScalarType.Float32).add(delta, alpha: Scalars.One).to(weight.dtype).MoveToOuterDisposeScope();
    }
}
