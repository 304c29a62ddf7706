using TorchSharp;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace FcTrain.Models.Gemma2;

/// <summary>
/// One Gemma-2 block. Unlike Llama, both sublayers are "sandwich" normalised: a norm before and another after
/// attention and after the MLP, each output added back to the residual stream.
/// </summary>
public sealed class DecoderLayer : nn.Module
{
    [ComponentName(Name = "self_attn")] public readonly Attention SelfAttention;
    [ComponentName(Name = "mlp")] public readonly Mlp Mlp;
    [ComponentName(Name = "input_layernorm")] private readonly RmsNorm inputNorm;
    [ComponentName(Name = "post_attention_layernorm")] private readonly RmsNorm postAttentionNorm;
    [ComponentName(Name = "pre_feedforward_layernorm")] private readonly RmsNorm preFeedforwardNorm;
    [ComponentName(Name = "post_feedforward_layernorm")] private readonly RmsNorm postFeedforwardNorm;

    /// <summary>This layer's sliding window, or null for global attention.</summary>
    public int? Window { get; }
    public int Index { get; }

    public DecoderLayer(int index, Gemma2Config config, ScalarType dtype, Device device) : base($"layers.{index}")
    {
        Index = index;
        Window = config.IsSliding(index) ? config.SlidingWindow : null;
        SelfAttention = new Attention("self_attn", config, dtype, device);
        Mlp = new Mlp("mlp", config, dtype, device);
        inputNorm = new RmsNorm("input_layernorm", config.HiddenSize, config.RmsNormEps, dtype, device);
        postAttentionNorm = new RmsNorm("post_attention_layernorm", config.HiddenSize, config.RmsNormEps, dtype, device);
        preFeedforwardNorm = new RmsNorm("pre_feedforward_layernorm", config.HiddenSize, config.RmsNormEps, dtype, device);
        postFeedforwardNorm = new RmsNorm("post_feedforward_layernorm", config.HiddenSize, config.RmsNormEps, dtype, device);
        RegisterComponents();
    }

    public Tensor forward(Tensor x, Tensor cos, Tensor sin, Tensor mask, KvCache? cache)   // (B, T, C)
    {
        var h = SelfAttention.forward(inputNorm.forward(x), cos, sin, mask, cache, Index);
        x = x.add(postAttentionNorm.forward(h), alpha: Scalars.One);
        h = Mlp.forward(preFeedforwardNorm.forward(x));
        return x.add(postFeedforwardNorm.forward(h), alpha: Scalars.One);
    }
}
