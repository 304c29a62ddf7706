using System.Text.Json;
using System.Text.Json.Nodes;
using FcTrain.Diagnostics;
using FcTrain.IO;
using FcTrain.Models.Gemma2;
using FcTrain.SafeTensors;
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
/// </summary>
public static class PeftAdapter
{
    public const string Prefix = "base_model.model.";
    public const string ConfigFile = "adapter_config.json";
    public const string WeightsFile = "adapter_model.safetensors";

    public static string ToPeftKey(string name) => Prefix + name;

    public static string FromPeftKey(string key) =>
        key.StartsWith(Prefix, StringComparison.Ordinal) ? key[Prefix.Length..] : key;

    /// <summary>Reads adapter_config.json into the LoRA shape (and the base model it was trained on).</summary>
    public static (LoraConfig Config, string? BaseModel) ReadConfig(string directory)
    {
        string path = Path.Combine(directory, ConfigFile);
        if (!File.Exists(path))
            throw FcTrainException.Error("FCT0210", $"no {ConfigFile} in the adapter folder: an adapter is a PEFT folder with {ConfigFile} and {WeightsFile}.", directory);
        JsonObject json;
        try { json = JsonNode.Parse(File.ReadAllText(path))!.AsObject(); }
        catch (JsonException e)
        {
            throw FcTrainException.Error("FCT0211", $"{ConfigFile} is not valid JSON: {e.Message}", path, (int)(e.LineNumber ?? 0) + 1, (int)(e.BytePositionInLine ?? 0) + 1);
        }
        if ((string?)json["peft_type"] != "LORA")
            throw FcTrainException.Error("FCT0211", $"peft_type is '{json["peft_type"]}'; fctrain loads LORA adapters only.", path);
        if (json["use_dora"]?.GetValue<bool>() == true)
            throw FcTrainException.Error("FCT0211", "DoRA adapters (use_dora: true) are not supported; train a plain LoRA adapter.", path);
        var targets = json["target_modules"] switch
        {
            JsonArray a => a.Select(t => (string)t!).ToList(),
            JsonValue v => [(string)v!],
            _ => throw FcTrainException.Error("FCT0211", "target_modules is missing.", path),
        };
        var config = new LoraConfig(
            Rank: (int)json["r"]!,
            Alpha: (double)json["lora_alpha"]!,
            Dropout: (double?)json["lora_dropout"] ?? 0,
            TargetModules: targets,
            UseRsLora: (bool?)json["use_rslora"] ?? false);
        return (config, (string?)json["base_model_name_or_path"]);
    }

    /// <summary>Attaches the adapter in <paramref name="directory"/> to <paramref name="model"/> and loads its weights.</summary>
    public static LoraConfig Load(Gemma2ForCausalLM model, string directory)
    {
        var (config, _) = ReadConfig(directory);
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
        var seen = new HashSet<string>();
        using (no_grad())
        {
            foreach (var key in file.Tensors.Keys)
            {
                string name = FromPeftKey(key).Replace(".default.", ".");   // in-memory PEFT names carry the adapter name
                if (!parameters.TryGetValue(name, out var parameter))
                    throw FcTrainException.Error("FCT0212", $"adapter tensor '{key}' has no place in this model with target_modules [{string.Join(", ", config.TargetModules)}]. Was the adapter trained on another architecture?", file.Path);
                var info = file.Tensors[key];
                if (!info.Shape.SequenceEqual(parameter.shape))
                    throw FcTrainException.Error("FCT0212", $"adapter tensor '{key}' has shape [{string.Join(", ", info.Shape)}], the model expects [{string.Join(", ", parameter.shape)}]. Was it trained on another base model?", file.Path);
                using var value = file.Read(key);
                parameter.copy_(value);
                seen.Add(name);
            }
        }
        var missing = parameters.Keys.Where(k => !seen.Contains(k)).ToList();
        if (missing.Count > 0)
            throw FcTrainException.Error("FCT0212", $"the adapter lacks {missing.Count} tensor(s) its config implies, e.g. '{ToPeftKey(missing[0])}'.", file.Path);
    }

    /// <summary>Writes the model's adapter as a PEFT folder, each file atomically.</summary>
    public static void Save(Gemma2ForCausalLM model, LoraConfig config, string directory, string? baseModel)
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
        SafeTensorsWriter.Write(Path.Combine(directory, WeightsFile),
            model.AdapterParameters().OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => (ToPeftKey(p.Name), (Tensor)p.Value)));
        AtomicFile.WriteAllText(Path.Combine(directory, ConfigFile), adapterConfig.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }
}
