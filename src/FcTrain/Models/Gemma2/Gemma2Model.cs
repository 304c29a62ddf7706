using FcTrain.Lora;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace FcTrain.Models.Gemma2;

/// <summary>Runs one decoder layer, <c>block(input)</c>, directly or through activation checkpointing.</summary>
public delegate Tensor LayerRunner(DecoderLayer layer, Func<Tensor, Tensor> block, Tensor input);

/// <summary>The Gemma-2 decoder stack: token embeddings, the layers, the final norm (transformers' Gemma2Model).</summary>
public sealed class Gemma2Model : nn.Module
{
    [ComponentName(Name = "embed_tokens")] public readonly LoraEmbedding EmbedTokens;
    [ComponentName(Name = "layers")] private readonly ModuleList<DecoderLayer> layers;
    [ComponentName(Name = "norm")] private readonly RmsNorm norm;
    private readonly Gemma2Config config;

    public Gemma2Model(Gemma2Config config, ScalarType dtype, Device device) : base("model")
    {
        this.config = config;
        EmbedTokens = new LoraEmbedding("embed_tokens", config.VocabSize, config.HiddenSize, dtype, device);
        layers = new ModuleList<DecoderLayer>([.. Enumerable.Range(0, config.NumHiddenLayers).Select(i => new DecoderLayer(i, config, dtype, device))]);
        norm = new RmsNorm("norm", config.HiddenSize, config.RmsNormEps, dtype, device);
        RegisterComponents();
    }

    public IReadOnlyList<DecoderLayer> Layers => [.. layers];

    /// <param name="inputIds">(B, T) token ids.</param>
    /// <param name="positionIds">(B, T) RoPE positions; they restart at 0 for each packed conversation.</param>
    /// <param name="documentIds">(B, T) packed-document id of each token (block-diagonal attention), or null.</param>
    /// <returns>Hidden states after the final norm, (B, T, C).</returns>
    public Tensor forward(Tensor inputIds, Tensor positionIds, Tensor? documentIds = null, KvCache? cache = null, LayerRunner? runLayer = null)
    {
        var x = EmbedTokens.forward(inputIds);                                          // (B, T, C)
        // Why the explicit tensor: transformers multiplies by sqrt(hidden) cast to the compute dtype first,
        // so in bfloat16 the factor itself is rounded (sqrt(2304) = 48 exactly, but not for every size).
        x = x * tensor(Math.Sqrt(config.HiddenSize), x.dtype, x.device);
        var (cos, sin) = Rotary.Tables(positionIds, config.HeadDim, config.RopeTheta, x.dtype);

        // With a cache a token's position is its slot: each row's queries sit at their own positions (B, T).
        long t = inputIds.shape[1];
        using var queryEnd = t.ToScalar();
        var queries = cache is null ? arange(Scalars.Zero, queryEnd, Scalars.One, ScalarType.Int64, x.device) : positionIds;
        using var keyEnd = (cache?.Begin(positionIds) ?? t).ToScalar();
        var keys = arange(Scalars.Zero, keyEnd, Scalars.One, ScalarType.Int64, x.device);
        var globalMask = AttentionMask.Build(queries, keys, documentIds, window: null);
        var slidingMask = AttentionMask.Build(queries, keys, documentIds, config.SlidingWindow);

        foreach (var layer in layers)
        {
            var mask = layer.Window is null ? globalMask : slidingMask;
            Tensor Block(Tensor h) => layer.forward(h, cos, sin, mask, cache);
            x = runLayer is null ? Block(x) : runLayer(layer, Block, x);
        }
        return norm.forward(x);
    }
}
