using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace FcTrain.Models.Gemma2;

/// <summary>
/// Gemma's RMSNorm: x / sqrt(mean(x²) + eps) · (1 + w).
/// Why (1 + w): Gemma stores the scale as an offset from 1, so a zero weight is the identity.
/// Why float32 throughout: transformers computes the norm and the scale in float32 and casts back only at the
/// end (unlike Llama, which casts before multiplying by the weight); matching it matters in bfloat16.
/// </summary>
public sealed class RmsNorm : Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Scalar eps;

    public RmsNorm(string name, long dim, double eps, ScalarType dtype, Device device) : base(name)
    {
        weight = new Parameter(zeros(dim, dtype, device), requires_grad: false);
        this.eps = eps.ToScalar();
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var h = x.to(ScalarType.Float32);
        h = h * h.pow(Scalars.Two).mean([-1], keepdim: true).add(eps, alpha: Scalars.One).rsqrt();
        return (h * weight.to(ScalarType.Float32).add(Scalars.OneDouble, alpha: Scalars.One)).to(x.dtype);
    }
}
