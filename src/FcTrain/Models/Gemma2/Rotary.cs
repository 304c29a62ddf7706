using TorchSharp;
using static TorchSharp.torch;

namespace FcTrain.Models.Gemma2;

/// <summary>
/// Rotary position embeddings (RoPE, Su et al. 2021) in the "rotate half" layout of transformers:
/// channel i pairs with channel i + D/2, rotated by position · θ^(-2i/D).
/// Positions come from <c>position_ids</c>, so packed conversations each start at 0.
/// </summary>
public static class Rotary
{
    /// <summary>cos and sin tables for the given positions, (B, 1, T, D), in <paramref name="dtype"/>.</summary>
    public static (Tensor Cos, Tensor Sin) Tables(Tensor positionIds, int headDim, double theta, ScalarType dtype)
    {
        using var dim = headDim.ToScalar();
        var exponent = arange(Scalars.Zero, dim, Scalars.Two, ScalarType.Int64, positionIds.device).to(ScalarType.Float32) / dim;
        var invFreq = pow(theta, exponent).reciprocal();                                  // (D/2)
        var freqs = positionIds.to(ScalarType.Float32).unsqueeze(-1) * invFreq;          // (B, T, D/2)
        var angles = cat([freqs, freqs], -1).unsqueeze(1);                               // (B, 1, T, D)
        return (angles.cos().to(dtype), angles.sin().to(dtype));
    }

    /// <summary>x · cos + rotate_half(x) · sin, for x of shape (B, H, T, D).</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        long half = x.shape[^1] / 2;
        var rotated = cat([-x[.., .., .., (int)half..], x[.., .., .., ..(int)half]], -1);
        return (x * cos).add(rotated * sin, alpha: Scalars.One);
    }
}
