using System.Text.Json.Nodes;
using FcTrain.Data;

namespace FcTrain.Interop;

/// <summary>
/// A conversation in the shape transformers' <c>tokenizer.apply_chat_template(messages, tools=tools)</c> takes:
/// <c>messages</c> with <c>tool_calls</c> of <c>{"type": "function", "function": {"name", "arguments": {…}}}</c>
/// (arguments as a dict, as the Hermes-style templates index them), tool messages with <c>name</c> and text
/// <c>content</c>, thinking as <c>thinking</c>; <c>tools</c> as OpenAI tool definitions.
/// </summary>
public static class HfFormat
{
    public static JsonObject Write(Conversation conversation, IReadOnlyDictionary<string, FunctionDefinition> functions)
    {
        var messages = new JsonArray();
        foreach (var m in conversation.Messages)
        {
            var json = new JsonObject { ["role"] = m.Role.ToString().ToLowerInvariant() };
            if (m.Thinking is not null) json["thinking"] = m.Thinking;
            json["content"] = m.Content is null ? "" : ToolJson.ContentText(m.Content);
            if (m.ToolCalls is { Count: > 0 } calls)
                json["tool_calls"] = new JsonArray(calls.Select(c =>
                {
                    var call = new JsonObject();
                    if (c.Id is not null) call["id"] = c.Id;
                    call["type"] = "function";
                    call["function"] = new JsonObject { ["name"] = c.Name, ["arguments"] = c.Arguments.DeepClone() };
                    return (JsonNode?)call;
                }).ToArray());
            if (m.ToolCallId is not null) json["tool_call_id"] = m.ToolCallId;
            if (m.Name is not null) json["name"] = m.Name;
            messages.Add(json);
        }
        return new JsonObject
        {
            ["id"] = conversation.Id,
            ["messages"] = messages,
            ["tools"] = new JsonArray(conversation.Functions.Select(f => (JsonNode?)ToolJson.Tool(functions[f])).ToArray()),
        };
    }
}
