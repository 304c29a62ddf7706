using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using FcTrain.Data;

namespace FcTrain.Interop;

/// <summary>
/// Salesforce xLAM records: <c>query</c> (the user's request), <c>tools</c> and <c>answers</c> as JSON strings.
/// Tools carry xLAM parameter dicts (<see cref="XlamTypes"/>); answers are the (possibly parallel) calls. A record
/// becomes a user turn and an assistant turn making the calls (xLAM has no tool responses).
/// </summary>
public static class XlamFormat
{
    public static readonly IReadOnlyList<string> Columns = ["query|tools|answers"];

    public static ImportedRecord Read(JsonObject record, SourceSpan source)
    {
        if (record["query"] is not JsonValue q || !q.TryGetValue(out string? query) || query.Length == 0)
            throw new RecordException(ImportCodes.RecordShape, "no \"query\" text.");
        var functions = Functions(record["tools"], source);
        if (ToolJson.Embedded(record["answers"], "\"answers\"") is not JsonArray answers)
            throw new RecordException(ImportCodes.RecordShape, "\"answers\" is not a list of calls.");
        var calls = new List<ToolCall>(answers.Count);
        for (int i = 0; i < answers.Count; i++)
        {
            if (answers[i] is not JsonObject answer || answer["name"] is not JsonValue n || !n.TryGetValue(out string? name))
                throw new RecordException(ImportCodes.RecordShape, $"answers[{i}] has no \"name\".");
            var arguments = answer["arguments"] switch
            {
                JsonObject a => (JsonObject)a.DeepClone(),
                null => [],
                var other => ToolJson.Embedded(other, $"answers[{i}].arguments") as JsonObject
                    ?? throw new RecordException(ImportCodes.InvalidArguments, $"answers[{i}]: the arguments of '{name}' are not an object."),
            };
            calls.Add(new ToolCall(null, name, arguments));
        }
        if (calls.Count == 0) throw new RecordException(ImportCodes.RecordShape, "\"answers\" is empty: the record has no call to learn.");
        return new ImportedRecord(ToolJson.Id(record["id"]), functions,
            [new Message(Role.User, query), new Message(Role.Assistant, ToolCalls: calls)]);
    }

    // Records repeat the same tool definitions: each distinct definition text is converted once, and the records that
    // list it share the result (read only). Bounded: past the limit it starts over.
    private static readonly ConcurrentDictionary<string, (string Name, string Description, JsonObject Parameters)> Converted = new(StringComparer.Ordinal);
    private const int ConvertedLimit = 1 << 16;

    /// <summary>The record's tools: a JSON string (each definition looked up by its text), else a Python literal or a parsed value.</summary>
    private static List<FunctionDefinition> Functions(JsonNode? field, SourceSpan source)
    {
        JsonDocument? document = null;
        if (field is JsonValue v && v.TryGetValue(out string? text))
            try { document = JsonDocument.Parse(text); }
            catch (JsonException) { }   // not JSON: ToolJson.Embedded below reads it as a Python literal or reports it
        if (document is null)
        {
            if (ToolJson.Embedded(field, "\"tools\"") is not JsonArray tools)
                throw new RecordException(ImportCodes.RecordShape, "\"tools\" is not a list of tool definitions.");
            return tools.Select((tool, i) => Definition(Tool(tool, i), source)).ToList();
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Array)
                throw new RecordException(ImportCodes.RecordShape, "\"tools\" is not a list of tool definitions.");
            var functions = new List<FunctionDefinition>(document.RootElement.GetArrayLength());
            int i = 0;
            foreach (var element in document.RootElement.EnumerateArray())
            {
                string raw = element.GetRawText();
                if (!Converted.TryGetValue(raw, out var tool))
                {
                    tool = Tool(JsonNode.Parse(raw), i);
                    if (Converted.Count >= ConvertedLimit) Converted.Clear();
                    Converted[raw] = tool;
                }
                functions.Add(Definition(tool, source));
                i++;
            }
            return functions;
        }
    }

    private static FunctionDefinition Definition((string Name, string Description, JsonObject Parameters) tool, SourceSpan source) =>
        new(tool.Name, tool.Description, tool.Parameters, source);

    /// <summary>One xLAM tool definition: name, description, parameters as JSON Schema.</summary>
    private static (string Name, string Description, JsonObject Parameters) Tool(JsonNode? node, int i)
    {
        if (node is not JsonObject tool || tool["name"] is not JsonValue n || !n.TryGetValue(out string? name))
            throw new RecordException(ImportCodes.RecordShape, $"tools[{i}] has no \"name\".");
        string description = tool["description"] is JsonValue d && d.TryGetValue(out string? text) ? text : "";
        var parameters = tool["parameters"] switch
        {
            JsonObject p => XlamTypes.Parameters(p, $"tools[{i}] ('{name}')"),
            null => XlamTypes.Parameters([], name),
            _ => throw new RecordException(ImportCodes.RecordShape, $"tools[{i}] ('{name}'): \"parameters\" is not an object."),
        };
        return (name, description, parameters);
    }
}
