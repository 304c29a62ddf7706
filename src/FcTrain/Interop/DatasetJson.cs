using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using FcTrain.Data;

namespace FcTrain.Interop;

/// <summary>
/// The data model written back as the JSON of a dataset's files (schemas/*.v1.schema.json): the inverse of the
/// loader's reading, so a written file loads into the same records.
/// </summary>
public static class DatasetJson
{
    /// <summary>Indented, non-ASCII as is: how the files of datasets/ are written.</summary>
    public static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>One line of a *.jsonl file.</summary>
    public static readonly JsonSerializerOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static JsonObject Function(FunctionDefinition function, string schemaPath) => new()
    {
        ["$schema"] = schemaPath,
        ["name"] = function.Name,
        ["description"] = function.Description,
        ["parameters"] = function.Parameters.DeepClone(),
    };

    public static JsonObject Conversation(Conversation conversation, string schemaPath)
    {
        var json = new JsonObject
        {
            ["$schema"] = schemaPath,
            ["id"] = conversation.Id,
            ["functions"] = new JsonArray(conversation.Functions.Select(f => (JsonNode?)f).ToArray()),
        };
        if (conversation.Tags is { Count: > 0 } tags) json["tags"] = new JsonArray(tags.Select(t => (JsonNode?)t).ToArray());
        json["messages"] = new JsonArray(conversation.Messages.Select(m => (JsonNode?)Message(m)).ToArray());
        return json;
    }

    public static JsonObject Message(Message message)
    {
        var json = new JsonObject { ["role"] = message.Role.ToString().ToLowerInvariant() };
        if (message.Content is not null) json["content"] = message.Content.DeepClone();
        if (message.Thinking is not null) json["thinking"] = message.Thinking;
        if (message.ToolCalls is { } calls)
            json["tool_calls"] = new JsonArray(calls.Select(c =>
            {
                var call = new JsonObject();
                if (c.Id is not null) call["id"] = c.Id;
                call["name"] = c.Name;
                call["arguments"] = c.Arguments.DeepClone();
                return (JsonNode?)call;
            }).ToArray());
        if (message.ToolCallId is not null) json["tool_call_id"] = message.ToolCallId;
        if (message.Name is not null) json["name"] = message.Name;
        if (!message.Train) json["train"] = false;
        return json;
    }

    /// <summary>dataset.json of an imported dataset: every function and conversation file, a tenth held out by hash.</summary>
    public static JsonObject Manifest(string name, string description, string schemaPath, bool jsonl) => new()
    {
        ["$schema"] = schemaPath,
        ["name"] = name,
        ["version"] = "1.0.0",
        ["description"] = description,
        ["license"] = "NOASSERTION",
        ["functions"] = new JsonArray("functions/*.json"),
        ["conversations"] = new JsonArray(jsonl ? "conversations/*.jsonl" : "conversations/*.json"),
        ["split"] = new JsonObject { ["eval_fraction"] = 0.1 },
    };

    /// <summary>The text of a *.json data file: indented, with a final line break.</summary>
    public static string FileText(JsonNode node) => node.ToJsonString(Indented) + "\n";
}
