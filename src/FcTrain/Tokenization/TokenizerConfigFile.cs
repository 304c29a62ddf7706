using System.Text.Json;
using System.Text.Json.Nodes;
using FcTrain.IO;

namespace FcTrain.Tokenization;

/// <summary>
/// <c>tokenizer_config.json</c> as transformers' <c>save_pretrained</c> writes it beside a tokenizer.json: every added
/// token in <c>added_tokens_decoder</c> (id → content and flags, the same entries as tokenizer.json's added_tokens),
/// the turn markers and tool markup in <c>additional_special_tokens</c> (as the agents course registers its markup),
/// keys sorted. Starts from the model's own tokenizer_config.json when there is one, else from Gemma's defaults.
/// </summary>
public static class TokenizerConfigFile
{
    public const string FileName = "tokenizer_config.json";

    /// <param name="tokenizerJson">The tokenizer.json just written: its added_tokens are listed.</param>
    /// <param name="baseConfig">The base model's tokenizer_config.json, or null.</param>
    /// <param name="chatTemplate">A Jinja <c>chat_template</c> to set (a merged model's serving template), or null to keep the base's.</param>
    public static void Write(string path, string tokenizerJson, string? baseConfig, string? chatTemplate = null)
    {
        var config = baseConfig is not null && File.Exists(baseConfig)
            ? JsonNode.Parse(File.ReadAllText(baseConfig))!.AsObject()
            : GemmaDefaults();

        var decoder = config["added_tokens_decoder"] as JsonObject ?? [];
        var special = (config["additional_special_tokens"] as JsonArray ?? []).Select(t => (string)t!).ToList();
        var added = JsonNode.Parse(File.ReadAllText(tokenizerJson))!["added_tokens"]!.AsArray();
        foreach (var token in added)
        {
            string content = (string)token!["content"]!;
            decoder[((int)token["id"]!).ToString()] = new JsonObject
            {
                ["content"] = content,
                ["lstrip"] = (bool)token["lstrip"]!,
                ["normalized"] = (bool)token["normalized"]!,
                ["rstrip"] = (bool)token["rstrip"]!,
                ["single_word"] = (bool)token["single_word"]!,
                ["special"] = (bool)token["special"]!,
            };
        }
        foreach (string tag in new[] { "<start_of_turn>", "<end_of_turn>" }.Concat(ToolTokens.Markup))
            if (!special.Contains(tag)) special.Add(tag);

        config["added_tokens_decoder"] = new JsonObject(decoder.OrderBy(e => int.Parse(e.Key))
            .Select(e => KeyValuePair.Create(e.Key, e.Value?.DeepClone())));
        config["additional_special_tokens"] = new JsonArray([.. special.Select(t => JsonValue.Create(t))]);
        if (chatTemplate is not null) config["chat_template"] = chatTemplate;
        var sorted = new JsonObject(config.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => KeyValuePair.Create(e.Key, e.Value?.DeepClone())));
        AtomicFile.WriteAllText(path, sorted.ToJsonString(new JsonSerializerOptions
        {
            WriteIndented = true,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }) + "\n");
    }

    /// <summary>google/gemma-2-2b-it's settings that do not depend on the vocabulary.</summary>
    private static JsonObject GemmaDefaults() => new()
    {
        ["add_bos_token"] = true,
        ["add_eos_token"] = false,
        ["bos_token"] = "<bos>",
        ["clean_up_tokenization_spaces"] = false,
        ["eos_token"] = "<eos>",
        ["pad_token"] = "<pad>",
        ["sp_model_kwargs"] = new JsonObject(),
        ["spaces_between_special_tokens"] = false,
        ["tokenizer_class"] = "GemmaTokenizer",
        ["unk_token"] = "<unk>",
        ["use_default_system_prompt"] = false,
    };
}
