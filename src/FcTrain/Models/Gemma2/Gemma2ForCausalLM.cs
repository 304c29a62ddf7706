using FcTrain.Lora;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace FcTrain.Models.Gemma2;

/// <summary>
/// Gemma-2 with its language-model head (transformers' Gemma2ForCausalLM): logits = cap · tanh(h Eᵀ / cap), with
/// the head tied to the token embeddings E and the final soft-cap. Hidden states and logits are separate steps so
/// training can project only the positions it trains on: with a 256k vocabulary, full logits of a 1500-token row
/// take 1.5 GB in float32.
/// </summary>
public sealed class Gemma2ForCausalLM : nn.Module
{
    [ComponentName(Name = "model")] public readonly Gemma2Model Model;
    [ComponentName(Name = "lm_head")] public readonly LoraLinear LmHead;

    public Gemma2Config Config { get; private set; }
    /// <summary>The checkpoint's vocabulary size when <see cref="ResizeTokenEmbeddings"/> changed it, else null.</summary>
    public int? ResizedFrom { get; private set; }
    public ScalarType DType { get; }
    public Device Device { get; }
    private readonly Scalar? finalSoftCap;   // Config.FinalLogitSoftcapping, which a resize leaves as it is

    /// <summary>Builds the model with uninitialised weights (they are loaded or initialised next).</summary>
    public Gemma2ForCausalLM(Gemma2Config config, ScalarType dtype, Device device) : base("Gemma2ForCausalLM")
    {
        Config = config;
        finalSoftCap = config.FinalLogitSoftcapping?.ToScalar();
        DType = dtype;
        Device = device;
        Model = new Gemma2Model(config, dtype, device);
        LmHead = config.TieWordEmbeddings
            ? LoraLinear.Tied("lm_head", () => Model.EmbedTokens.Weight)
            : new LoraLinear("lm_head", config.HiddenSize, config.VocabSize, dtype, device);
        RegisterComponents();
    }

    /// <summary>Hidden states (B, T, C); see <see cref="Gemma2Model.forward"/>.</summary>
    public Tensor Hidden(Tensor inputIds, Tensor positionIds, Tensor? documentIds = null, KvCache? cache = null, LayerRunner? runLayer = null) =>
        Model.forward(inputIds, positionIds, documentIds, cache, runLayer);

    /// <summary>Logits for hidden states (…, C) → (…, V).</summary>
    public Tensor Logits(Tensor hidden)
    {
        var logits = LmHead.forward(hidden);
        // Without autograd (decoding) the cap is applied in place: no extra copies of the (…, V) logits, same values.
        if (finalSoftCap is { } cap)
            logits = is_grad_enabled() ? (logits / cap).tanh() * cap : logits.div_(cap).tanh_().mul_(cap);
        return logits;
    }

    /// <summary>The soft-cap of one logit, cap · tanh(z / cap) in float32 as <see cref="Logits"/> applies it, or z without
    /// a cap. It is monotonic: greedy decoding takes the argmax of the uncapped logits and caps only what it compares.</summary>
    public static float SoftCap(float logit, double? cap) => cap is double c ? MathF.Tanh(logit / (float)c) * (float)c : logit;

    /// <summary>Full logits (B, T, V).</summary>
    public Tensor forward(Tensor inputIds, Tensor positionIds, Tensor? documentIds = null, KvCache? cache = null) =>
        Logits(Hidden(inputIds, positionIds, documentIds, cache));

    /// <summary>Every projection that can carry a LoRA adapter, by PEFT module path (without the base_model.model. prefix).</summary>
    public IEnumerable<(string Path, LoraLinear Layer)> LinearModules()
    {
        foreach (var layer in Model.Layers)
        {
            foreach (var (name, p) in layer.SelfAttention.Projections()) yield return ($"model.layers.{layer.Index}.self_attn.{name}", p);
            foreach (var (name, p) in layer.Mlp.Projections()) yield return ($"model.layers.{layer.Index}.mlp.{name}", p);
        }
        yield return ("lm_head", LmHead);
    }

    /// <summary>
    /// transformers' <c>resize_token_embeddings(newVocab)</c> (mean_resizing): grows <c>embed_tokens</c> to
    /// <paramref name="newVocab"/> rows (<see cref="EmbeddingResize"/>) and with it the head, which is tied to it;
    /// an untied head grows the same way. Config.VocabSize follows. Before <see cref="ApplyLora"/>: LoRA's
    /// embedding factor has one column per token. A null <paramref name="generator"/> leaves zeros in the new rows
    /// for a caller that loads them next.
    /// </summary>
    public void ResizeTokenEmbeddings(int newVocab, Generator? generator)
    {
        if (newVocab == Config.VocabSize) return;
        if (newVocab < Config.VocabSize)
            throw new ArgumentOutOfRangeException(nameof(newVocab), $"cannot shrink the vocabulary from {Config.VocabSize} to {newVocab}");
        if (Model.EmbedTokens.LoraA is not null || LmHead.LoraA is not null)
            throw new InvalidOperationException("resize the token embeddings before attaching LoRA");
        EmbeddingResize.Grow(Model.EmbedTokens.Weight, newVocab, generator);
        if (!Config.TieWordEmbeddings) EmbeddingResize.Grow(LmHead.Weight, newVocab, generator);
        ResizedFrom ??= Config.VocabSize;
        Config = Config with { VocabSize = newVocab };
    }

    /// <summary>Fails with FCT0231 when a tokenizer has ids beyond the embedding rows (tool_tokens added on a model that
    /// was not resized: neither an adapter trained with the added tokens nor a merged model).</summary>
    public void RequireVocabulary(int tokenizerVocab, string tokenizerSource)
    {
        if (tokenizerVocab > Config.VocabSize)
            throw Diagnostics.FcTrainException.Error("FCT0231",
                $"the tokenizer has {tokenizerVocab} ids but the model has {Config.VocabSize} embedding rows: tool markup added as tokens (tool_tokens added) needs the adapter trained with them (--adapter) or its merged model.", tokenizerSource);
    }

    /// <summary>Attaches LoRA adapters to the target modules and freezes everything else.</summary>
    public void ApplyLora(LoraConfig config)
    {
        foreach (var p in parameters()) p.requires_grad = false;
        foreach (var (path, layer) in LinearModules())
            if (config.Targets(path[(path.LastIndexOf('.') + 1)..])) layer.AddAdapter(config);
        if (config.Targets("embed_tokens")) Model.EmbedTokens.AddAdapter(config);
    }

    /// <summary>The adapter parameters with their state-dict names (the only ones that train).</summary>
    public IReadOnlyList<(string Name, Parameter Value)> AdapterParameters() =>
        named_parameters().Where(p => p.name.Contains(".lora_") || p.name.StartsWith("lora_")).Select(p => (p.name, p.parameter)).ToList();
}
