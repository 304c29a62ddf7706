using System.Text.Json;
using System.Text.Json.Nodes;
using FcTrain.Data;
using FcTrain.Evaluation;
using FcTrain.Templates;

namespace FcTrain.Interop;

/// <summary>What the formats share: tool definitions in the OpenAI shape, tool results, bodies in JSON or Python-literal form.</summary>
public static class ToolJson
{
    /// <summary>A tool definition: <c>{"type": "function", "function": {name, description, parameters}}</c> or the bare function object.</summary>
    public static FunctionDefinition Definition(JsonNode? tool, string where, SourceSpan source)
    {
        var function = tool is JsonObject { } o && o["function"] is JsonObject inner ? inner : tool as JsonObject
            ?? throw new RecordException(ImportCodes.RecordShape, $"{where} is not a tool definition object.");
        if (function["name"] is not JsonValue nameValue || !nameValue.TryGetValue(out string? name) || name.Length == 0)
            throw new RecordException(ImportCodes.RecordShape, $"{where} has no \"name\" string.");
        string description = function["description"] is JsonValue d && d.TryGetValue(out string? text) ? text : "";
        var parameters = function["parameters"] switch
        {
            JsonObject p => (JsonObject)p.DeepClone(),
            null => new JsonObject { ["type"] = "object", ["properties"] = new JsonObject() },
            _ => throw new RecordException(ImportCodes.RecordShape, $"{where} ('{name}'): \"parameters\" is not a JSON Schema object."),
        };
        return new FunctionDefinition(name, description, parameters, source);
    }

    /// <summary>The OpenAI / transformers tool shape of a definition.</summary>
    public static JsonObject Tool(FunctionDefinition function) => new()
    {
        ["type"] = "function",
        ["function"] = new JsonObject
        {
            ["name"] = function.Name,
            ["description"] = function.Description,
            ["parameters"] = function.Parameters.DeepClone(),
        },
    };

    /// <summary>
    /// A tool result as a message's content (the schema allows text, an object or an array): objects and arrays as
    /// they are, a string holding a JSON object or array parsed, other strings as text, other values as their JSON text.
    /// </summary>
    public static JsonNode Content(JsonNode? value)
    {
        switch (value)
        {
            case JsonObject or JsonArray: return value.DeepClone();
            case JsonValue v when v.TryGetValue(out string? s):
                string t = s.TrimStart();
                if (t.StartsWith('{') || t.StartsWith('['))
                {
                    try { if (JsonNode.Parse(s) is JsonNode parsed and (JsonObject or JsonArray)) return parsed; }
                    catch (JsonException) { }
                }
                return JsonValue.Create(s);
            default: return JsonValue.Create(value?.ToJsonString() ?? "null");
        }
    }

    /// <summary>A tool result as OpenAI's string content: text as is, JSON as canonical JSON text.</summary>
    public static string ContentText(JsonNode? content) =>
        content is JsonValue v && v.TryGetValue(out string? s) ? s : ValueSerializer.Serialize(ValueSerializer.Canonical(content), Serialization.Json);

    /// <summary>A body in JSON or, as the Hermes data writes it, a Python literal (single quotes, True/False/None).</summary>
    public static JsonNode? Body(string text, string what)
    {
        try { return JsonNode.Parse(text); }
        catch (JsonException json)
        {
            if (PythonLiteral.TryParse(text.Trim(), out var value, out string? python)) return value;
            throw new RecordException(ImportCodes.MalformedInput,
                $"{what} is neither JSON ({InputReader.FirstSentence(json.Message)}) nor a Python literal ({python}).");
        }
    }

    /// <summary>A string field of a record, or a JSON value of it (xLAM and Hermes store JSON in strings; Parquet may hold it parsed).</summary>
    public static JsonNode? Embedded(JsonNode? field, string what) =>
        field is JsonValue v && v.TryGetValue(out string? text) ? Body(text, what) : field?.DeepClone();

    /// <summary>A record's own id as text (string or number), else null.</summary>
    public static string? Id(JsonNode? id) => id switch
    {
        JsonValue v when v.TryGetValue(out string? s) => string.IsNullOrWhiteSpace(s) ? null : s,
        JsonValue v => v.ToJsonString(),
        _ => null,
    };
}
