using System.Text.Json.Nodes;

namespace FcTrain.Training;

/// <summary>
/// PEFT's <c>adapter_config.json</c> for a LoRA adapter, with the keys <c>peft.LoraConfig</c> writes
/// (so <c>PeftModel.from_pretrained</c> loads it and the Hub shows it as a LoRA of the base model).
/// </summary>
public static class AdapterConfigJson
{
    public static string Create(LoraSettings lora, string? baseModelNameOrPath, string? revision = null)
    {
        var config = new JsonObject
        {
            ["alpha_pattern"] = new JsonObject(),
            ["auto_mapping"] = null,
            ["base_model_name_or_path"] = baseModelNameOrPath,
            ["bias"] = "none",
            ["fan_in_fan_out"] = false,
            ["inference_mode"] = true,
            ["init_lora_weights"] = true,
            ["layers_pattern"] = null,
            ["layers_to_transform"] = null,
            ["lora_alpha"] = lora.Alpha == Math.Floor(lora.Alpha) ? JsonValue.Create((long)lora.Alpha) : JsonValue.Create(lora.Alpha),
            ["lora_dropout"] = lora.Dropout,
            ["modules_to_save"] = null,
            ["peft_type"] = "LORA",
            ["r"] = lora.Rank,
            ["rank_pattern"] = new JsonObject(),
            ["revision"] = revision,
            ["target_modules"] = new JsonArray(lora.TargetModules.Order(StringComparer.Ordinal).Select(m => (JsonNode?)JsonValue.Create(m)).ToArray()),
            ["task_type"] = "CAUSAL_LM",
            ["use_dora"] = false,
            ["use_rslora"] = lora.UseRsLora,
        };
        return config.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n";
    }
}
