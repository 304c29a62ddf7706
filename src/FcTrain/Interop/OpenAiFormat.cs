using System.Text.Json;
using System.Text.Json.Nodes;
using FcTrain.Data;
using FcTrain.Evaluation;
using FcTrain.Templates;

namespace FcTrain.Interop;

/// <summary>
/// OpenAI's fine-tuning chat format, one record per conversation: <c>messages</c> (tool calls with
/// <c>function.arguments</c> as a JSON string, tool messages with <c>tool_call_id</c>, <c>weight</c> 0/1 on
/// assistant messages), <c>tools</c>, <c>parallel_tool_calls</c>, and fctrain's conversation id as <c>id</c>.
/// Thinking, which OpenAI has no field for, travels as a leading <c>&lt;think&gt;…&lt;/think&gt;</c> in the
/// assistant's content (the Hermes convention), so an export imports back equal.
/// </summary>
public static class OpenAiFormat
{
    public static readonly IReadOnlyList<string> Columns = ["messages"];

    public static ImportedRecord Read(JsonObject record, SourceSpan source)
    {
        var functions = record["tools"] switch
        {
            JsonArray tools => tools.Select((t, i) => ToolJson.Definition(t, $"tools[{i}]", source)).ToList(),
            null => [],
            _ => throw new RecordException(ImportCodes.RecordShape, "\"tools\" is not an array of tool definitions."),
        };
        if (record["messages"] is not JsonArray messages)
            throw new RecordException(ImportCodes.RecordShape, "no \"messages\" array: an OpenAI record is {\"messages\": [...], \"tools\": [...]}.");
        var result = new List<Message>(messages.Count);
        var callNames = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < messages.Count; i++)
        {
            if (messages[i] is not JsonObject m) throw new RecordException(ImportCodes.RecordShape, $"messages[{i}] is not an object.");
            string role = m["role"] is JsonValue r && r.TryGetValue(out string? s) ? s : "";
            result.Add(role switch
            {
                "system" or "developer" => new Message(Role.System, Text(m["content"], i)),
                "user" => new Message(Role.User, Text(m["content"], i)),
                "assistant" => Assistant(m, i, callNames),
                "tool" => Tool(m, i, callNames),
                _ => throw new RecordException(ImportCodes.RecordShape, $"messages[{i}]: unknown role '{role}' (expected system, developer, user, assistant or tool)."),
            });
        }
        if (record["parallel_tool_calls"] is JsonValue p && p.TryGetValue(out bool parallel) && !parallel
            && result.FindIndex(m => m.ToolCalls is { Count: > 1 }) is int at and >= 0)
            throw new RecordException(ImportCodes.RecordShape, $"\"parallel_tool_calls\" is false, but messages[{at}] makes {result[at].ToolCalls!.Count} calls at once.");
        return new ImportedRecord(ToolJson.Id(record["id"]), functions, result);
    }

    private static Message Assistant(JsonObject m, int i, Dictionary<string, string> callNames)
    {
        bool train = m["weight"] switch
        {
            null => true,
            JsonValue w when w.TryGetValue(out int weight) && weight is 0 or 1 => weight == 1,
            _ => throw new RecordException(ImportCodes.RecordShape, $"messages[{i}]: \"weight\" must be 0 or 1."),
        };
        string? text = m["content"] is null ? null : Text(m["content"], i);
        string? thinking = null;
        if (text is not null && text.StartsWith(ToolCallParser.ThinkOpen, StringComparison.Ordinal))
        {
            int end = text.IndexOf(ToolCallParser.ThinkClose, StringComparison.Ordinal);
            if (end < 0) throw new RecordException(ImportCodes.BadMarkup, $"messages[{i}]: {ToolCallParser.ThinkOpen} is never closed by {ToolCallParser.ThinkClose}.");
            thinking = text[ToolCallParser.ThinkOpen.Length..end];
            text = text[(end + ToolCallParser.ThinkClose.Length)..];
        }
        List<ToolCall>? calls = null;
        if (m["tool_calls"] is JsonArray array)
        {
            calls = [];
            for (int j = 0; j < array.Count; j++)
            {
                string where = $"messages[{i}].tool_calls[{j}]";
                if (array[j] is not JsonObject call || call["function"] is not JsonObject function
                    || function["name"] is not JsonValue n || !n.TryGetValue(out string? name) || name.Length == 0)
                    throw new RecordException(ImportCodes.RecordShape, $"{where} is not {{\"id\", \"type\": \"function\", \"function\": {{\"name\", \"arguments\"}}}}.");
                var arguments = function["arguments"] switch
                {
                    JsonValue v when v.TryGetValue(out string? encoded) => Arguments(encoded, where, name),
                    JsonObject o => (JsonObject)o.DeepClone(),
                    null => [],
                    _ => throw new RecordException(ImportCodes.RecordShape, $"{where}: the arguments of '{name}' are not a JSON string."),
                };
                string? id = call["id"] is JsonValue idValue && idValue.TryGetValue(out string? x) ? x : null;
                if (id is not null) callNames[id] = name;
                calls.Add(new ToolCall(id, name, arguments));
            }
            if (calls.Count == 0) calls = null;
        }
        else if (m["tool_calls"] is not null) throw new RecordException(ImportCodes.RecordShape, $"messages[{i}]: \"tool_calls\" is not an array.");
        return new Message(Role.Assistant, string.IsNullOrEmpty(text) ? null : text, thinking, calls, Train: train);
    }

    private static JsonObject Arguments(string encoded, string where, string name)
    {
        try
        {
            return JsonNode.Parse(encoded) as JsonObject
                ?? throw new RecordException(ImportCodes.InvalidArguments, $"{where}: the arguments of '{name}' are not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new RecordException(ImportCodes.MalformedInput, $"{where}: the arguments of '{name}' are not valid JSON ({InputReader.FirstSentence(e.Message)}).");
        }
    }

    private static Message Tool(JsonObject m, int i, Dictionary<string, string> callNames)
    {
        string? id = m["tool_call_id"] is JsonValue v && v.TryGetValue(out string? s) ? s : null;
        string? name = m["name"] is JsonValue n && n.TryGetValue(out string? t) ? t : id is not null && callNames.TryGetValue(id, out var called) ? called : null;
        if (id is null && name is null) throw new RecordException(ImportCodes.RecordShape, $"messages[{i}]: a tool message needs \"tool_call_id\".");
        return new Message(Role.Tool, ToolJson.Content(m["content"]), ToolCallId: id, Name: name);
    }

    /// <summary>Text content: a string, or OpenAI's list of <c>{"type": "text", "text": …}</c> parts.</summary>
    private static string Text(JsonNode? content, int i) => content switch
    {
        JsonValue v when v.TryGetValue(out string? s) => s,
        JsonArray parts when parts.All(p => p is JsonObject { } o && (string?)o["type"] == "text" && o["text"] is JsonValue) =>
            string.Concat(parts.Select(p => (string?)p!["text"])),
        _ => throw new RecordException(ImportCodes.RecordShape, $"messages[{i}]: \"content\" is not text."),
    };

    /// <summary>
    /// A conversation as an OpenAI record; calls without an id get <c>call_N</c>, answered by name in order. Arguments
    /// and JSON tool results are written as the canonical JSON text the training template renders, so the serving chat
    /// template (docs/serving.md) can put them in the prompt as they are.
    /// </summary>
    public static JsonObject Write(Conversation conversation, IReadOnlyDictionary<string, FunctionDefinition> functions)
    {
        var messages = new JsonArray();
        var pending = new List<(string Id, string Name)>();
        int generated = 0;
        var ids = conversation.Messages.SelectMany(m => m.ToolCalls ?? []).Select(c => c.Id).OfType<string>().ToHashSet(StringComparer.Ordinal);
        foreach (var m in conversation.Messages)
        {
            var json = new JsonObject { ["role"] = m.Role.ToString().ToLowerInvariant() };
            switch (m.Role)
            {
                case Role.System or Role.User:
                    json["content"] = ToolJson.ContentText(m.Content);
                    break;
                case Role.Assistant:
                    string? text = m.Content is null ? null : ToolJson.ContentText(m.Content);
                    if (m.Thinking is not null) text = ToolCallParser.ThinkOpen + m.Thinking + ToolCallParser.ThinkClose + text;
                    json["content"] = text;
                    if (m.ToolCalls is { Count: > 0 } calls)
                    {
                        json["tool_calls"] = new JsonArray(calls.Select(c =>
                        {
                            string id = c.Id ?? NewId();
                            pending.Add((id, c.Name));
                            return (JsonNode?)new JsonObject
                            {
                                ["id"] = id,
                                ["type"] = "function",
                                ["function"] = new JsonObject { ["name"] = c.Name, ["arguments"] = ValueSerializer.Serialize(ValueSerializer.Canonical(c.Arguments), Serialization.Json) },
                            };
                        }).ToArray());
                    }
                    if (!m.Train) json["weight"] = 0;
                    break;
                case Role.Tool:
                    int index = m.ToolCallId is not null ? pending.FindIndex(p => p.Id == m.ToolCallId) : pending.FindIndex(p => p.Name == m.Name);
                    string callId = m.ToolCallId ?? (index >= 0 ? pending[index].Id : NewId());
                    if (index >= 0) pending.RemoveAt(index);
                    json["tool_call_id"] = callId;
                    if (m.Name is not null) json["name"] = m.Name;
                    json["content"] = ToolJson.ContentText(m.Content);
                    break;
            }
            messages.Add(json);
        }
        return new JsonObject
        {
            ["id"] = conversation.Id,
            ["messages"] = messages,
            ["tools"] = new JsonArray(conversation.Functions.Select(f => (JsonNode?)ToolJson.Tool(functions[f])).ToArray()),
        };

        string NewId()
        {
            string id;
            do id = $"call_{++generated}"; while (ids.Contains(id));
            return id;
        }
    }
}
