using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace FcTrain.Models.Gemma2;

/// <summary>The causal-LM loss of transformers: position t predicts label t+1; labels of -100 are not scored.</summary>
public static class Loss
{
    public const long IgnoreIndex = -100;

    /// <summary>Mean next-token cross-entropy of (B, T, V) logits against (B, T) unshifted labels, in float32.</summary>
    public static double NextToken(Tensor logits, Tensor labels)
    {
        using var scope = NewDisposeScope();
        long v = logits.shape[2];
        var predictions = logits[.., ..^1].reshape(-1, v).to(ScalarType.Float32);   // (B·(T-1), V)
        var targets = labels[.., 1..].reshape(-1);                                 // (B·(T-1))
        return functional.cross_entropy(predictions, targets, ignore_index: IgnoreIndex).item<float>();
    }
}
