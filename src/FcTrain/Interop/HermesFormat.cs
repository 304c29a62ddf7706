using System.Text.Json.Nodes;
using FcTrain.Data;
using FcTrain.Evaluation;

namespace FcTrain.Interop;

/// <summary>
/// Hermes / ShareGPT records (NousResearch's hermes-function-calling, the agents course's dataset): a
/// <c>conversations</c> column of <c>{from, value}</c> turns or a <c>messages</c> column of <c>{role, content}</c> turns.
/// The system text lists the tools in <c>&lt;tools&gt;[…]&lt;/tools&gt;</c> (that system turn is dropped: the template
/// writes its own tool prompt); model turns hold <c>&lt;think&gt;</c> and <c>&lt;tool_call&gt;</c> blocks (read by
/// <see cref="ToolCallParser"/>); tool turns hold <c>&lt;tool_response&gt;{"name", "content"}&lt;/tool_response&gt;</c>
/// blocks. Every body may be JSON or a Python literal.
/// </summary>
public static class HermesFormat
{
    public static readonly IReadOnlyList<string> Columns = ["conversations", "messages"];

    private const string ToolsOpen = "<tools>", ToolsClose = "</tools>";
    private const string ResponseOpen = "<tool_response>", ResponseClose = "</tool_response>";

    public static ImportedRecord Read(JsonObject record, SourceSpan source)
    {
        if ((record["conversations"] ?? record["messages"]) is not JsonArray turns)
            throw new RecordException(ImportCodes.RecordShape, "no \"conversations\" (or \"messages\") array of turns.");
        var functions = new List<FunctionDefinition>();
        var messages = new List<Message>(turns.Count);
        var pending = new Queue<string>(); // names of the calls not answered yet
        for (int i = 0; i < turns.Count; i++)
        {
            if (turns[i] is not JsonObject turn) throw new RecordException(ImportCodes.RecordShape, $"turn {i} is not an object.");
            string role = (turn["from"] ?? turn["role"]) is JsonValue r && r.TryGetValue(out string? s) ? s : "";
            if ((turn["value"] ?? turn["content"]) is not JsonValue v || !v.TryGetValue(out string? text))
                throw new RecordException(ImportCodes.RecordShape, $"turn {i} ({role}) has no text (\"value\" or \"content\").");
            switch (role)
            {
                case "system":
                    if (text.Contains(ToolsOpen, StringComparison.Ordinal)) functions.AddRange(Tools(text, i, source));
                    else messages.Add(new Message(Role.System, text));
                    break;
                case "human" or "user":
                    messages.Add(new Message(Role.User, text));
                    break;
                case "gpt" or "model" or "assistant":
                    var parsed = ToolCallParser.Parse(text);
                    if (parsed.Failure is { } failure) throw new RecordException(ImportCodes.BadMarkup, $"turn {i} ({role}): {failure.Reason}.");
                    pending.Clear();
                    foreach (var call in parsed.Calls) pending.Enqueue(call.Name);
                    messages.Add(new Message(Role.Assistant, parsed.Text.Length > 0 ? parsed.Text : null, parsed.Thinking,
                        parsed.Calls.Count > 0 ? parsed.Calls.Select(c => new ToolCall(null, c.Name, c.Arguments)).ToList() : null));
                    break;
                case "tool":
                    messages.AddRange(Responses(text, i, pending));
                    break;
                default:
                    throw new RecordException(ImportCodes.RecordShape,
                        $"turn {i}: unknown role '{role}' (expected system, human, user, gpt, model, assistant or tool).");
            }
        }
        return new ImportedRecord(ToolJson.Id(record["id"]), functions, messages);
    }

    /// <summary>The tools of every non-empty <c>&lt;tools&gt;</c> block (the preamble's "within &lt;tools&gt;&lt;/tools&gt; XML tags" is empty).</summary>
    private static List<FunctionDefinition> Tools(string system, int turn, SourceSpan source)
    {
        var functions = new List<FunctionDefinition>();
        for (int at = system.IndexOf(ToolsOpen, StringComparison.Ordinal); at >= 0; at = system.IndexOf(ToolsOpen, at, StringComparison.Ordinal))
        {
            int open = at + ToolsOpen.Length;
            int close = system.IndexOf(ToolsClose, open, StringComparison.Ordinal);
            if (close < 0) throw new RecordException(ImportCodes.BadMarkup, $"turn {turn} (system): {ToolsOpen} is never closed by {ToolsClose}.");
            at = close + ToolsClose.Length;
            string text = system[open..close].Trim();
            if (text.Length == 0) continue;
            var body = ToolJson.Body(text, $"turn {turn} (system): the tool list");
            var tools = body as JsonArray ?? (body is JsonObject one ? new JsonArray(one.DeepClone()) : null)
                ?? throw new RecordException(ImportCodes.RecordShape, $"turn {turn} (system): the tool list is not a list of tool definitions.");
            functions.AddRange(tools.Select((t, k) => ToolJson.Definition(t, $"turn {turn} (system): tool {functions.Count + k}", source)));
        }
        return functions;
    }

    /// <summary>The tool messages of a tool turn: one per <c>&lt;tool_response&gt;</c> block (the whole text when it has none).</summary>
    private static List<Message> Responses(string text, int turn, Queue<string> pending)
    {
        var responses = new List<Message>();
        string NextName() => pending.Count > 0 ? pending.Dequeue()
            : throw new RecordException(ImportCodes.RecordShape, $"turn {turn} (tool): the response names no function and no call is waiting for one.");
        if (!text.Contains(ResponseOpen, StringComparison.Ordinal))
        {
            responses.Add(new Message(Role.Tool, ToolJson.Content(JsonValue.Create(text.Trim())), Name: NextName()));
            return responses;
        }
        for (int at = text.IndexOf(ResponseOpen, StringComparison.Ordinal); at >= 0; at = text.IndexOf(ResponseOpen, at, StringComparison.Ordinal))
        {
            int start = at + ResponseOpen.Length;
            int end = text.IndexOf(ResponseClose, start, StringComparison.Ordinal);
            if (end < 0) throw new RecordException(ImportCodes.BadMarkup, $"turn {turn} (tool): {ResponseOpen} is never closed by {ResponseClose}.");
            string body = text[start..end].Trim();
            JsonNode? value;
            try { value = ToolJson.Body(body, "the response"); }
            catch (RecordException) { value = JsonValue.Create(body); } // a plain-text result
            if (value is JsonObject o && o["name"] is JsonValue n && n.TryGetValue(out string? name) && o.ContainsKey("content"))
            {
                if (pending.Contains(name)) Remove(pending, name);
                responses.Add(new Message(Role.Tool, ToolJson.Content(o["content"]), Name: name));
            }
            else responses.Add(new Message(Role.Tool, ToolJson.Content(value), Name: NextName()));
            at = end + ResponseClose.Length;
        }
        return responses;
    }

    private static void Remove(Queue<string> queue, string name)
    {
        var rest = queue.ToList();
        rest.Remove(name);
        queue.Clear();
        foreach (string r in rest) queue.Enqueue(r);
    }
}
