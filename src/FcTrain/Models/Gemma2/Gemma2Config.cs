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
        using var json = JsonFileReader.Open(path, "FCT0206");
        Gemma2Config? config;
        try { config = json.Root.Deserialize<Gemma2Config>(Json); }
        catch (JsonException e)
        {
            throw json.Error(JsonPathToPointer(e.Path), $"config.json is not valid: {e.Message.Split(" Path:")[0]}");
        }
        if (config is null || config.ModelType != "gemma2")
            throw FcTrainException.Error("FCT0207", $"unsupported architecture: model_type is '{config?.ModelType}' ({string.Join(", ", config?.Architectures ?? [])}). fctrain trains Gemma-2 models (model_type gemma2, Gemma2ForCausalLM).", path);
        if (config.HiddenActivation != "gelu_pytorch_tanh")
            throw FcTrainException.Error("FCT0207", $"unsupported hidden_activation '{config.HiddenActivation}'; Gemma-2 uses gelu_pytorch_tanh.", path);
        config.CheckRanges(json);
        if (config.NumAttentionHeads % config.NumKeyValueHeads != 0)
            throw json.Error("/num_key_value_heads", $"num_attention_heads ({config.NumAttentionHeads}) must be a multiple of num_key_value_heads ({config.NumKeyValueHeads}).");
        return config;
    }

    /// <summary>Every size must be positive and every id inside the vocabulary: a zero or negative one would divide
    /// by zero or reach libtorch as an impossible shape.</summary>
    private void CheckRanges(JsonFileReader json)
    {
        foreach (var (name, value) in new (string, long)[]
                 {
                     ("vocab_size", VocabSize), ("hidden_size", HiddenSize), ("intermediate_size", IntermediateSize),
                     ("num_hidden_layers", NumHiddenLayers), ("num_attention_heads", NumAttentionHeads),
                     ("num_key_value_heads", NumKeyValueHeads), ("head_dim", HeadDim), ("max_position_embeddings", MaxPositionEmbeddings),
                     ("sliding_window", SlidingWindow ?? 1),
                 })
            if (value < 1) throw json.Error($"/{name}", $"{name} must be at least 1, not {value}.");
        foreach (var (name, value) in new (string, double)[]
                 {
                     ("rms_norm_eps", RmsNormEps), ("rope_theta", RopeTheta), ("query_pre_attn_scalar", QueryPreAttnScalar),
                     ("final_logit_softcapping", FinalLogitSoftcapping ?? 1), ("attn_logit_softcapping", AttnLogitSoftcapping ?? 1),
                 })
            if (!(value > 0)) throw json.Error($"/{name}", $"{name} must be a positive number, not {value}.");
        foreach (var (name, value) in new (string, int)[] { ("pad_token_id", PadTokenId), ("bos_token_id", BosTokenId) })
            if (value < 0 || value >= VocabSize) throw json.Error($"/{name}", $"{name} ({value}) must be an id of the vocabulary (0..{VocabSize - 1}).");
    }

    /// <summary>"$.vocab_size" (System.Text.Json's path) as a JSON pointer, "/vocab_size".</summary>
    private static string JsonPathToPointer(string? path) =>
        path is null || path.Length < 2 ? "" : "/" + path[2..].Replace('.', '/').Replace("[", "/").Replace("]", "").Replace("'", "");

    public void Save(string path) => AtomicFile.WriteAllText(path, JsonSerializer.Serialize(this, Json) + "\n");
}
