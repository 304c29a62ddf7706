using System.Text.Json;
using System.Text.Json.Serialization;
using FcTrain.Diagnostics;
using FcTrain.IO;

namespace FcTrain.Models.Gemma2;

/// <summary>
/// The Gemma-2 hyper-parameters, read from a Hugging Face <c>config.json</c> (names as transformers' Gemma2Config).
/// </summary>
public sealed record Gemma2Config
{
    [JsonPropertyName("architectures")] public string[] Architectures { get; init; } = ["Gemma2ForCausalLM"];
    [JsonPropertyName("model_type")] public string ModelType { get; init; } = "gemma2";
    [JsonPropertyName("vocab_size")] public int VocabSize { get; init; } = 256000;
    [JsonPropertyName("hidden_size")] public int HiddenSize { get; init; } = 2304;
    [JsonPropertyName("intermediate_size")] public int IntermediateSize { get; init; } = 9216;
    [JsonPropertyName("num_hidden_layers")] public int NumHiddenLayers { get; init; } = 26;
    [JsonPropertyName("num_attention_heads")] public int NumAttentionHeads { get; init; } = 8;
    [JsonPropertyName("num_key_value_heads")] public int NumKeyValueHeads { get; init; } = 4;
    [JsonPropertyName("head_dim")] public int HeadDim { get; init; } = 256;
    [JsonPropertyName("hidden_activation")] public string HiddenActivation { get; init; } = "gelu_pytorch_tanh";
    [JsonPropertyName("max_position_embeddings")] public int MaxPositionEmbeddings { get; init; } = 8192;
    [JsonPropertyName("rms_norm_eps")] public double RmsNormEps { get; init; } = 1e-6;
    [JsonPropertyName("rope_theta")] public double RopeTheta { get; init; } = 10000.0;
    [JsonPropertyName("attention_bias")] public bool AttentionBias { get; init; }
    [JsonPropertyName("query_pre_attn_scalar")] public double QueryPreAttnScalar { get; init; } = 256;
    [JsonPropertyName("sliding_window")] public int? SlidingWindow { get; init; } = 4096;
    [JsonPropertyName("final_logit_softcapping")] public double? FinalLogitSoftcapping { get; init; } = 30.0;
    [JsonPropertyName("attn_logit_softcapping")] public double? AttnLogitSoftcapping { get; init; } = 50.0;
    [JsonPropertyName("tie_word_embeddings")] public bool TieWordEmbeddings { get; init; } = true;
    [JsonPropertyName("pad_token_id")] public int PadTokenId { get; init; }
    [JsonPropertyName("eos_token_id")] public JsonElement? EosTokenId { get; init; }
    [JsonPropertyName("bos_token_id")] public int BosTokenId { get; init; } = 2;
    [JsonPropertyName("torch_dtype")] public string TorchDtype { get; init; } = "float32";
    [JsonPropertyName("initializer_range")] public double InitializerRange { get; init; } = 0.02;

    /// <summary>Gemma-2 alternates local and global attention: layers 0, 2, 4… use the sliding window.</summary>
    public bool IsSliding(int layer) => SlidingWindow is not null && layer % 2 == 0;

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public static Gemma2Config Load(string path)
    {
        if (!File.Exists(path))
            throw FcTrainException.Error("FCT0205", "config.json not found: a model folder needs config.json next to its safetensors weights.", path);
        Gemma2Config? config;
        try { config = JsonSerializer.Deserialize<Gemma2Config>(File.ReadAllText(path), Json); }
        catch (JsonException e)
        {
            throw FcTrainException.Error("FCT0206", $"config.json is not valid: {e.Message}", path, (int)(e.LineNumber ?? -1) + 1, (int)(e.BytePositionInLine ?? -1) + 1);
        }
        if (config is null || config.ModelType != "gemma2")
            throw FcTrainException.Error("FCT0207", $"unsupported architecture: model_type is '{config?.ModelType}' ({string.Join(", ", config?.Architectures ?? [])}). fctrain trains Gemma-2 models (model_type gemma2, Gemma2ForCausalLM).", path);
        if (config.HiddenActivation != "gelu_pytorch_tanh")
            throw FcTrainException.Error("FCT0207", $"unsupported hidden_activation '{config.HiddenActivation}'; Gemma-2 uses gelu_pytorch_tanh.", path);
        if (config.NumAttentionHeads % config.NumKeyValueHeads != 0)
            throw FcTrainException.Error("FCT0206", $"num_attention_heads ({config.NumAttentionHeads}) must be a multiple of num_key_value_heads ({config.NumKeyValueHeads}).", path);
        return config;
    }

    public void Save(string path) => AtomicFile.WriteAllText(path, JsonSerializer.Serialize(this, Json) + "\n");
}
