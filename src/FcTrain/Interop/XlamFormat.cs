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
        if (ToolJson.Embedded(record["tools"], "\"tools\"") is not JsonArray tools)
            throw new RecordException(ImportCodes.RecordShape, "\"tools\" is not a list of tool definitions.");
        if (ToolJson.Embedded(record["answers"], "\"answers\"") is not JsonArray answers)
            throw new RecordException(ImportCodes.RecordShape, "\"answers\" is not a list of calls.");
        var functions = new List<FunctionDefinition>(tools.Count);
        for (int i = 0; i < tools.Count; i++)
        {
            if (tools[i] is not JsonObject tool || tool["name"] is not JsonValue n || !n.TryGetValue(out string? name))
                throw new RecordException(ImportCodes.RecordShape, $"tools[{i}] has no \"name\".");
            string description = tool["description"] is JsonValue d && d.TryGetValue(out string? text) ? text : "";
            var parameters = tool["parameters"] switch
            {
                JsonObject p => XlamTypes.Parameters(p, $"tools[{i}] ('{name}')"),
                null => XlamTypes.Parameters([], name),
                _ => throw new RecordException(ImportCodes.RecordShape, $"tools[{i}] ('{name}'): \"parameters\" is not an object."),
            };
            functions.Add(new FunctionDefinition(name, description, parameters, source));
        }
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
}
