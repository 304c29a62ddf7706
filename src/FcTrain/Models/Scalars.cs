using TorchSharp;
using static TorchSharp.torch;

namespace FcTrain.Models;

/// <summary>
/// Numbers for libtorch ops as <see cref="Scalar"/>s that something holds until the op returns.
/// Why: TorchSharp turns a number given to a tensor op (<c>x.mul_(0.5)</c>, <c>x + eps</c>, <c>masked_fill(m, -inf)</c>)
/// into a temporary Scalar that owns a native c10::Scalar and frees it only in its finalizer (dispose scopes do not
/// track Scalars). The op reads <c>Scalar.Handle</c> and calls libtorch; from then on nothing references the Scalar,
/// so a garbage collection during the native call can finalize it while libtorch still reads it: "Unknown scalar
/// type", or a wrong number (TorchSharp PR #1496). TorchSharp makes such a temporary itself for the alpha of 1 in
/// <c>a + b</c>, <c>add(x)</c>, <c>add_(x)</c> and in the two-bound <c>arange</c>, and for <c>ToDouble()</c> of a tensor.
/// So code that runs per step or per token passes a Scalar that stays reachable: one of these constants, a module's
/// readonly field, or a <c>using var</c> around the call. Each is made as the implicit conversion makes it
/// (<c>ToScalar()</c> of an int, long, float or double), so every op computes exactly what it did.
/// </summary>
public static class Scalars
{
    public static readonly Scalar Zero = 0.ToScalar();
    /// <summary>The int 1, which is also the alpha TorchSharp passes when none is given: <c>a + b</c> is <c>a.add(b, alpha: One)</c>.</summary>
    public static readonly Scalar One = 1.ToScalar();
    public static readonly Scalar Two = 2.ToScalar();
    /// <summary>The double 1.0.</summary>
    public static readonly Scalar OneDouble = 1.0.ToScalar();
    /// <summary>The double −∞.</summary>
    public static readonly Scalar NegativeInfinity = double.NegativeInfinity.ToScalar();

    /// <summary><c>value.ToDouble()</c> of a one-element tensor (through a Scalar, as TorchSharp reads it), the Scalar held until it is read.</summary>
    public static double ToDouble(Tensor value)
    {
        using var scalar = value.ToScalar();
        return scalar.ToDouble();
    }

    /// <summary><c>value.ToInt64()</c> of a one-element tensor, the Scalar held until it is read.</summary>
    public static long ToInt64(Tensor value)
    {
        using var scalar = value.ToScalar();
        return scalar.ToInt64();
    }
}
