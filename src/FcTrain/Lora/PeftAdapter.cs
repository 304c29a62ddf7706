using System.Text.Json;
using System.Text.Json.Nodes;
using FcTrain.Diagnostics;
using FcTrain.IO;
using FcTrain.Models.Gemma2;
using FcTrain.SafeTensors;
using FcTrain.Tokenization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FcTrain.Lora;

/// <summary>
/// PEFT's on-disk LoRA adapter: <c>adapter_config.json</c> + <c>adapter_model.safetensors</c>.
/// Our adapter parameters carry the Hugging Face module paths already (<c>model.layers.0.self_attn.q_proj.lora_A.weight</c>),
/// so the whole key mapping is PEFT's wrapper prefix:
///
///   | fctrain state dict                          | PEFT file                                                   |
///   | model.layers.N.…_proj.lora_A.weight          | base_model.model.model.layers.N.…_proj.lora_A.weight          |
///   | model.embed_tokens.lora_embedding_A          | base_model.model.model.embed_tokens.lora_embedding_A          |
///   | lm_head.lora_B.weight                        | base_model.model.lm_head.lora_B.weight                        |
///
/// When the vocabulary was resized (tool markup added as tokens), the full embedding layers go into the file too,
/// as PEFT's <c>get_peft_model_state_dict</c> does (<c>save_embedding_layers</c>): under the LoRA wrapper's
/// <c>base_layer</c> when the module is a LoRA target, else under its own name:
///
///   | model.embed_tokens.weight (targeted)          | base_model.model.model.embed_tokens.base_layer.weight         |
///   | model.embed_tokens.weight (not targeted)      | base_model.model.model.embed_tokens.weight                    |
///   | lm_head.weight, untied head only              | base_model.model.lm_head(.base_layer).weight                  |
///
/// PEFT also writes a tied head (a clone of the embeddings) and, with "auto", the embeddings whenever they are
/// targeted; fctrain writes the tables only when the rows differ from the base checkpoint's, and a tied head once.
/// Loading resizes the base model to the file's rows first (as one calls resize_token_embeddings(len(tokenizer))
/// before PeftModel.from_pretrained).
/// </summary>
public static class PeftAdapter
{
    public const string Prefix = "base_model.model.";
    public const string ConfigFile = "adapter_config.json";
    public const string WeightsFile = "adapter_model.safetensors";

    public static string ToPeftKey(string name) => Prefix + name;

    public static string FromPeftKey(string key)
    {
        string name = key.StartsWith(Prefix, StringComparison.Ordinal) ? key[Prefix.Length..] : key;
        return name.Replace(".default.", ".").Replace(".base_layer.", ".");   // in-memory PEFT names: adapter name, wrapped layer
    }

    /// <summary>The embedding tables saved whole (resized vocabulary): our parameter name and PEFT's key.</summary>
    private static IEnumerable<(string Name, string Key, Parameter Value)> EmbeddingLayers(Gemma2ForCausalLM model, LoraConfig config)
    {
        string Key(string module) => ToPeftKey(config.Targets(module[(module.LastIndexOf('.') + 1)..]) ? $"{module}.base_layer.weight" : $"{module}.weight");
        yield return ("model.embed_tokens.weight", Key("model.embed_tokens"), model.Model.EmbedTokens.Weight);
        if (!model.Config.TieWordEmbeddings) yield return ("lm_head.weight", Key("lm_head"), model.LmHead.Weight);
    }

    /// <summary>Reads adapter_config.json into the LoRA shape (and the base model it was trained on); every value is
    /// checked, so a malformed file is an FCT0211 error at its position.</summary>
    public static (LoraConfig Config, string? BaseModel) ReadConfig(string directory)
    {
        string path = Path.Combine(directory, ConfigFile);
        if (!File.Exists(path))
            throw FcTrainException.Error("FCT0210", $"no {ConfigFile} in the adapter folder: an adapter is a PEFT folder with {ConfigFile} and {WeightsFile}.", directory);
        using var json = JsonFileReader.Open(path, "FCT0211");
        if (json.String("peft_type") is var type && type != "LORA")
            throw json.Error("/peft_type", $"peft_type is '{type}'; fctrain loads LORA adapters only.");
        if (json.Bool("use_dora") == true)
            throw json.Error("/use_dora", "DoRA adapters (use_dora: true) are not supported; train a plain LoRA adapter.");
        var targets = json.Get("target_modules") switch
        {
            { ValueKind: JsonValueKind.String } one => [one.GetString()!],
            { ValueKind: JsonValueKind.Array } many when many.EnumerateArray().All(t => t.ValueKind == JsonValueKind.String) =>
                many.EnumerateArray().Select(t => t.GetString()!).ToList(),
            null => throw json.Error("/target_modules", "target_modules is missing: list the adapted modules, e.g. [\"q_proj\", \"v_proj\"]."),
            var other => throw json.Error("/target_modules", $"target_modules must be a module name or an array of them, not {JsonFileReader.Describe(other.Value)}."),
        };
        var config = new LoraConfig(
            Rank: json.Int("r", 1, 65536) ?? throw json.Error("/r", "r (the LoRA rank) is missing."),
            Alpha: json.Number("lora_alpha", -1e6, 1e6) ?? throw json.Error("/lora_alpha", "lora_alpha is missing."),
            Dropout: json.Number("lora_dropout", 0, 0.999) ?? 0,
            TargetModules: targets,
            UseRsLora: json.Bool("use_rslora") ?? false);
        return (config, json.String("base_model_name_or_path"));
    }

    /// <summary>
    /// Attaches the adapter in <paramref name="directory"/> to <paramref name="model"/> and loads its weights. An adapter
    /// that carries the embedding table (resized vocabulary) first grows the model to its rows, then replaces the table.
    /// </summary>
    public static LoraConfig Load(Gemma2ForCausalLM model, string directory)
    {
        var (config, _) = ReadConfig(directory);
        var file = SafeTensorsFile.Open(Path.Combine(directory, WeightsFile));
        // The rank sizes every adapter tensor: check it against the file before allocating them.
        if (file.Tensors.Values.FirstOrDefault(t => (t.Name.Contains("lora_A", StringComparison.Ordinal) || t.Name.Contains("lora_embedding_A", StringComparison.Ordinal))
                && t.Shape.Length > 0) is { } a && a.Shape[0] != config.Rank)
            throw FcTrainException.Error("FCT0212", $"adapter tensor '{a.Name}' has rank {a.Shape[0]}, but {ConfigFile} says r = {config.Rank}. The config and the weights belong to different adapters.", file.Path);
        string? embedKey = file.Tensors.Keys.FirstOrDefault(k => FromPeftKey(k) == "model.embed_tokens.weight");
        if (embedKey is not null && file.Tensors[embedKey].Shape[0] > model.Config.VocabSize)
            model.ResizeTokenEmbeddings((int)file.Tensors[embedKey].Shape[0], generator: null);   // rows come from the file below
        model.ApplyLora(config);
        LoadWeights(model, directory, config);
        return config;
    }

    /// <summary>
    /// Copies the adapter's weights into the LoRA modules already attached to <paramref name="model"/> (with
    /// <paramref name="config"/>'s shape). Every file tensor must have a place of the same shape, and every attached
    /// adapter parameter a tensor; the first that does not is named in an FCT0212 error.
    /// </summary>
    public static void LoadWeights(Gemma2ForCausalLM model, string directory, LoraConfig config)
    {
        var file = SafeTensorsFile.Open(Path.Combine(directory, WeightsFile));
        var parameters = model.AdapterParameters().ToDictionary(p => p.Name, p => p.Value);
        var required = parameters.Keys.ToHashSet();
        foreach (var (name, _, value) in EmbeddingLayers(model, config)) parameters[name] = value;
        if (model.Config.TieWordEmbeddings) parameters["lm_head.weight"] = model.LmHead.Weight;   // PEFT saves the tied copy too
        var seen = new HashSet<string>();
        using (no_grad())
        {
            foreach (var key in file.Tensors.Keys)
            {
                string name = FromPeftKey(key);
                if (!parameters.TryGetValue(name, out var parameter))
                    throw FcTrainException.Error("FCT0212", $"adapter tensor '{key}' has no place in this model with target_modules [{string.Join(", ", config.TargetModules)}]. Was the adapter trained on another architecture?", file.Path);
                var info = file.Tensors[key];
                if (!info.Shape.SequenceEqual(parameter.shape))
                    throw FcTrainException.Error("FCT0212", $"adapter tensor '{key}' has shape [{string.Join(", ", info.Shape)}], the model expects [{string.Join(", ", parameter.shape)}]. Was it trained on another base model?", file.Path);
                using var value = file.Read(key);
                if (!(name == "lm_head.weight" && model.Config.TieWordEmbeddings)) parameter.copy_(value);   // a tied copy: the embeddings hold it
                seen.Add(name);
            }
        }
        var missing = required.Where(k => !seen.Contains(k)).ToList();
        if (missing.Count > 0)
            throw FcTrainException.Error("FCT0212", $"the adapter lacks {missing.Count} tensor(s) its config implies, e.g. '{ToPeftKey(missing[0])}'.", file.Path);
    }

    /// <summary>
    /// Writes the model's adapter as a PEFT folder, each file atomically: with the full embedding layers when the
    /// vocabulary was resized, and <paramref name="tokenizer"/>'s tokenizer.json + tokenizer_config.json when given.
    /// </summary>
    public static void Save(Gemma2ForCausalLM model, LoraConfig config, string directory, string? baseModel, GemmaTokenizer? tokenizer = null)
    {
        var adapterConfig = new JsonObject
        {
            ["peft_type"] = "LORA",
            ["task_type"] = "CAUSAL_LM",
            ["base_model_name_or_path"] = baseModel,
            ["r"] = config.Rank,
            ["lora_alpha"] = config.Alpha,
            ["lora_dropout"] = config.Dropout,
            ["target_modules"] = new JsonArray([.. config.TargetModules.Select(t => JsonValue.Create(t))]),
            ["bias"] = "none",
            ["fan_in_fan_out"] = false,
            ["inference_mode"] = true,
            ["use_rslora"] = config.UseRsLora,
            ["use_dora"] = false,
            ["modules_to_save"] = null,
            ["init_lora_weights"] = true,
        };
        Directory.CreateDirectory(directory);
        var tensors = model.AdapterParameters().Select(p => (Key: ToPeftKey(p.Name), Value: (Tensor)p.Value));
        if (model.ResizedFrom is not null) tensors = tensors.Concat(EmbeddingLayers(model, config).Select(e => (e.Key, (Tensor)e.Value)));
        SafeTensorsWriter.Write(Path.Combine(directory, WeightsFile), tensors.OrderBy(t => t.Key, StringComparer.Ordinal));
        tokenizer?.WriteHuggingFaceFiles(directory);
        AtomicFile.WriteAllText(Path.Combine(directory, ConfigFile), adapterConfig.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }
}
