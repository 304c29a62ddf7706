using System.Text.Json;
using System.Text.Json.Nodes;
using FcTrain.Data;

namespace FcTrain.Validation;

/// <summary>Maps schema-valid JSON onto the records of <see cref="FcTrain.Data"/> (the schema guarantees the shapes read here).</summary>
internal static class ModelReader
{
    public static FunctionDefinition Function(JsonElement root, SourceSpan source) => new(
        root.GetProperty("name").GetString()!,
        root.GetProperty("description").GetString()!,
        JsonNode.Parse(root.GetProperty("parameters").GetRawText())!.AsObject(),
        source);

    public static Conversation Conversation(JsonElement root, SourceSpan source) => new(
        root.GetProperty("id").GetString()!,
        Strings(root.GetProperty("functions")),
        root.GetProperty("messages").EnumerateArray().Select(Message).ToList(),
        source,
        root.TryGetProperty("tags", out var tags) ? Strings(tags) : null);

    public static DatasetManifest Manifest(JsonElement root, SourceSpan source)
    {
        var split = root.GetProperty("split");
        var template = root.TryGetProperty("template", out var t) ? t : default;
        var defaults = new TemplateOptions();
        return new DatasetManifest(
            root.GetProperty("name").GetString()!,
            root.GetProperty("version").GetString()!,
            root.GetProperty("description").GetString()!,
            root.GetProperty("license").GetString()!,
            Strings(root.GetProperty("functions")),
            Strings(root.GetProperty("conversations")),
            new SplitRule(
                split.TryGetProperty("eval_ids", out var ids) ? Strings(ids) : null,
                split.TryGetProperty("eval_fraction", out var fraction) ? fraction.GetDouble() : null,
                split.TryGetProperty("seed", out var seed) ? seed.GetString()! : new SplitRule().Seed),
            new TemplateOptions(
                OptionalString(template, "name") ?? defaults.Name,
                OptionalString(template, "serialization") ?? defaults.Serialization,
                OptionalString(template, "tool_tokens") ?? defaults.ToolTokens,
                OptionalString(template, "train_on") ?? defaults.TrainOn),
            source);
    }

    private static Message Message(JsonElement m) => new(
        Enum.Parse<Role>(m.GetProperty("role").GetString()!, ignoreCase: true),
        m.TryGetProperty("content", out var content) ? JsonNode.Parse(content.GetRawText()) : null,
        OptionalString(m, "thinking"),
        m.TryGetProperty("tool_calls", out var calls)
            ? calls.EnumerateArray().Select(c => new ToolCall(
                OptionalString(c, "id"),
                c.GetProperty("name").GetString()!,
                JsonNode.Parse(c.GetProperty("arguments").GetRawText())!.AsObject())).ToList()
            : null,
        OptionalString(m, "tool_call_id"),
        OptionalString(m, "name"),
        !m.TryGetProperty("train", out var train) || train.GetBoolean());

    private static List<string> Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToList();

    private static string? OptionalString(JsonElement o, string name) =>
        o.ValueKind == JsonValueKind.Object && o.TryGetProperty(name, out var v) ? v.GetString() : null;
}
