using FcTrain.Lora;
using TorchSharp;
using TorchSharp.Utils;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace FcTrain.Models.Gemma2;

/// <summary>
/// Gemma-2 self-attention (transformers' eager path): grouped-query attention with head_dim independent of the
/// hidden size, RoPE, scores scaled by query_pre_attn_scalar^-½ (not head_dim^-½), then soft-capped,
/// cap · tanh(s / cap), before the mask and the softmax. SDPA cannot express the soft-cap, hence the explicit math.
/// </summary>
public sealed class Attention : nn.Module
{
    [ComponentName(Name = "q_proj")] private readonly LoraLinear qProj;
    [ComponentName(Name = "k_proj")] private readonly LoraLinear kProj;
    [ComponentName(Name = "v_proj")] private readonly LoraLinear vProj;
    [ComponentName(Name = "o_proj")] private readonly LoraLinear oProj;
    private readonly int heads, kvHeads, headDim;
    private readonly Scalar scaling;
    private readonly Scalar? softCap;

    public Attention(string name, Gemma2Config config, ScalarType dtype, Device device) : base(name)
    {
        heads = config.NumAttentionHeads;
        kvHeads = config.NumKeyValueHeads;
        headDim = config.HeadDim;
        scaling = Math.Pow(config.QueryPreAttnScalar, -0.5).ToScalar();
        softCap = config.AttnLogitSoftcapping?.ToScalar();
        qProj = new LoraLinear("q_proj", config.HiddenSize, heads * headDim, dtype, device);
        kProj = new LoraLinear("k_proj", config.HiddenSize, kvHeads * headDim, dtype, device);
        vProj = new LoraLinear("v_proj", config.HiddenSize, kvHeads * headDim, dtype, device);
        oProj = new LoraLinear("o_proj", heads * headDim, config.HiddenSize, dtype, device);
        RegisterComponents();
    }

    public IEnumerable<(string Name, LoraLinear Layer)> Projections() =>
        [("q_proj", qProj), ("k_proj", kProj), ("v_proj", vProj), ("o_proj", oProj)];

    /// <param name="x">(B, T, C)</param>
    /// <param name="mask">(B|1, 1, T, S) booleans: may query t see key s.</param>
    public Tensor forward(Tensor x, Tensor cos, Tensor sin, Tensor mask, KvCache? cache, int layer)
    {
        long b = x.shape[0], t = x.shape[1];
        var q = qProj.forward(x).view(b, t, heads, headDim).transpose(1, 2);     // (B, H, T, D)
        var k = kProj.forward(x).view(b, t, kvHeads, headDim).transpose(1, 2);   // (B, KV, T, D)
        var v = vProj.forward(x).view(b, t, kvHeads, headDim).transpose(1, 2);   // (B, KV, T, D)
        q = Rotary.Apply(q, cos, sin);
        k = Rotary.Apply(k, cos, sin);

        if (cache is not null) (k, v) = cache.Write(layer, k, v);                // (B, KV, S, D)
        k = k.repeat_interleave(heads / kvHeads, dim: 1);                         // (B, H, S, D)
        v = v.repeat_interleave(heads / kvHeads, dim: 1);

        var scores = q.matmul(k.transpose(2, 3));                                 // (B, H, T, S)
        if (is_grad_enabled())
        {
            scores = scores * scaling;
            if (softCap is { } cap) scores = (scores / cap).tanh() * cap;
            scores = scores.masked_fill(mask.logical_not(), Scalars.NegativeInfinity);
        }
        else
        {
            // Decoding: the same operations in place, so a batched prefill holds one (B, H, T, S) tensor, not five.
            scores.mul_(scaling);
            if (softCap is { } cap) scores.div_(cap).tanh_().mul_(cap);
            scores.masked_fill_(mask.logical_not(), Scalars.NegativeInfinity);
        }
        var probs = functional.softmax(scores, -1, ScalarType.Float32).to(q.dtype);   // softmax in float32, as transformers
        var y = probs.matmul(v);                                                   // (B, H, T, D)
        y = y.transpose(1, 2).reshape(b, t, heads * headDim);                     // (B, T, H·D)
        return oProj.forward(y);                                                   // (B, T, C)
    }
}
