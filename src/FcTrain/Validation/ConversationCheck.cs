using System.Text.Json;
using System.Text.Json.Nodes;
using FcTrain.Data;
using FcTrain.Diagnostics;

namespace FcTrain.Validation;

/// <summary>
/// Reads one conversation and checks the rules a schema cannot express: calls go to offered functions with
/// valid arguments, every tool response answers a call, and the roles follow each other as a chat template
/// can render them. The role order (Gemma's template requires user/model alternation):
/// <list type="bullet">
/// <item>an optional system message, first;</item>
/// <item>then user and assistant alternate, starting with the user (two user messages in a row are refused: merge them);</item>
/// <item>an assistant message with tool_calls is followed by one tool message per call (in any order), then the assistant again;</item>
/// <item>a conversation may end with unanswered calls (the calls are then the expected output), but not with a batch only partly answered.</item>
/// </list>
/// </summary>
internal static class ConversationCheck
{
    private sealed class PendingCall(string? id, string name, string pointer)
    {
        public string? Id { get; } = id;
        public string Name { get; } = name;
        public string Pointer { get; } = pointer;
        public bool Answered { get; set; }
    }

    public static Conversation? Read(JsonSource source, JsonElement root, bool jsonLine,
        IReadOnlyDictionary<string, CompiledFunction> functions, List<Diagnostic> diagnostics)
    {
        var schema = SchemaCheck.Instance;
        schema.CheckSchemaReference(source, root, SchemaKind.Conversation, required: !jsonLine, diagnostics);
        if (!schema.Report(source, SchemaKind.Conversation, root, diagnostics)) return null;

        string id = root.GetProperty("id").GetString()!;
        var offered = new List<string>();
        int index = 0;
        foreach (var f in root.GetProperty("functions").EnumerateArray())
        {
            string name = f.GetString()!;
            if (!functions.ContainsKey(name))
                diagnostics.Add(source.Error($"/functions/{index}", DiagnosticCodes.UndefinedFunction,
                    $"the conversation offers function '{name}', which the dataset does not define. Add a function file for it (matched by the manifest's 'functions' globs) or fix the name{Closest(name, functions.Keys)}."));
            offered.Add(name);
            index++;
        }
        List<string>? tags = root.TryGetProperty("tags", out var t) ? t.EnumerateArray().Select(x => x.GetString()!).ToList() : null;

        var messages = new List<Message>();
        index = 0;
        foreach (var m in root.GetProperty("messages").EnumerateArray())
            messages.Add(ReadMessage(m, $"/messages/{index++}"));

        var conversation = new Conversation(id, offered, messages, new SourceSpan(source.File, jsonLine ? source.FirstLine : 0), tags);
        CheckMessages(source, conversation, root.GetProperty("messages"), functions, diagnostics);
        return conversation;
    }

    private static Message ReadMessage(JsonElement m, string pointer)
    {
        var role = m.GetProperty("role").GetString() switch
        {
            "system" => Role.System,
            "user" => Role.User,
            "assistant" => Role.Assistant,
            _ => Role.Tool,
        };
        List<ToolCall>? calls = null;
        if (m.TryGetProperty("tool_calls", out var tc))
            calls = tc.EnumerateArray().Select(c => new ToolCall(
                c.TryGetProperty("id", out var cid) ? cid.GetString() : null,
                c.GetProperty("name").GetString()!,
                JsonObject.Create(c.GetProperty("arguments"))!)).ToList();
        return new Message(role,
            m.TryGetProperty("content", out var content) ? ToNode(content) : null,
            m.TryGetProperty("thinking", out var thinking) ? thinking.GetString() : null,
            calls,
            m.TryGetProperty("tool_call_id", out var callId) ? callId.GetString() : null,
            m.TryGetProperty("name", out var name) ? name.GetString() : null);
    }

    private static JsonNode? ToNode(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => JsonObject.Create(e),
        JsonValueKind.Array => JsonArray.Create(e),
        JsonValueKind.String => JsonValue.Create(e.GetString()),
        JsonValueKind.Null => null,
        _ => JsonValue.Create(e),
    };

    private static void CheckMessages(JsonSource source, Conversation conversation, JsonElement messagesElement,
        IReadOnlyDictionary<string, CompiledFunction> functions, List<Diagnostic> diagnostics)
    {
        var pending = new List<PendingCall>();
        var callIds = new Dictionary<string, string>(StringComparer.Ordinal);
        Role? previous = null;
        bool anyAssistant = false;
        var offered = conversation.Functions.ToHashSet(StringComparer.Ordinal);

        void Error(string pointer, string code, string message, bool atName = false) =>
            diagnostics.Add(source.Error(pointer, code, message, atName));

        void Unanswered(string before)
        {
            foreach (var call in pending.Where(c => !c.Answered))
                Error(call.Pointer, DiagnosticCodes.CallWithoutResponse,
                    $"the call to '{call.Name}'{(call.Id is null ? "" : $" (id '{call.Id}')")} has no tool response before {before}. Add a tool message answering it right after the assistant message, or drop the call.");
        }

        for (int i = 0; i < conversation.Messages.Count; i++)
        {
            var message = conversation.Messages[i];
            string pointer = $"/messages/{i}";
            string role = message.Role.ToString().ToLowerInvariant();
            CheckFields(messagesElement[i], message, pointer, role, Error);

            switch (message.Role)
            {
                case Role.System:
                    if (i != 0)
                        Error(pointer + "/role", DiagnosticCodes.ImpossibleRoleOrder,
                            "a system message may only be the first message; the chat template renders it once, before the first user turn. Move it to the top or merge it into the first system message.");
                    break;

                case Role.User:
                    if (pending.Any(c => !c.Answered)) Unanswered($"the user message {pointer}");
                    else if (previous == Role.User)
                        Error(pointer + "/role", DiagnosticCodes.ImpossibleRoleOrder,
                            "two user messages in a row; the chat template requires user and assistant turns to alternate. Merge them into one message, or add the assistant's reply between them.");
                    else if (previous == Role.Tool)
                        Error(pointer + "/role", DiagnosticCodes.ImpossibleRoleOrder,
                            "a user message directly after tool results; the assistant must answer the results first. Add an assistant message between them.");
                    pending.Clear();
                    break;

                case Role.Assistant:
                    anyAssistant = true;
                    if (previous is null or Role.System)
                        Error(pointer + "/role", DiagnosticCodes.ImpossibleRoleOrder,
                            "the conversation starts with an assistant message; the first turn (after an optional system message) must be the user's. Add the user's request first.");
                    else if (pending.Any(c => !c.Answered)) Unanswered($"the next assistant message {pointer}");
                    else if (previous == Role.Assistant)
                        Error(pointer + "/role", DiagnosticCodes.ImpossibleRoleOrder,
                            "two assistant messages in a row; turns must alternate. Merge them into one message (content, thinking and tool_calls may share one message).");
                    pending.Clear();
                    for (int j = 0; j < (message.ToolCalls?.Count ?? 0); j++)
                        pending.Add(CheckCall(source, message.ToolCalls![j], messagesElement[i].GetProperty("tool_calls")[j], $"{pointer}/tool_calls/{j}",
                            offered, functions, callIds, diagnostics));
                    break;

                case Role.Tool:
                    MatchResponse(message, pointer, pending, Error);
                    break;
            }
            previous = message.Role;
        }

        if (pending.Any(c => c.Answered) && pending.Any(c => !c.Answered))
            Unanswered("the end of the conversation (the other calls of the same message were answered)");
        if (!anyAssistant)
            diagnostics.Add(source.Warning("/messages", DiagnosticCodes.NoAssistantTurn,
                "the conversation has no assistant message, so there is nothing to train on or evaluate. Add the assistant's reply (a tool call, an answer, or a clarifying question)."));
    }

    private static readonly (string Field, Role Owner)[] RoleFields =
        [("thinking", Role.Assistant), ("tool_calls", Role.Assistant), ("tool_call_id", Role.Tool), ("name", Role.Tool)];

    private static void CheckFields(JsonElement element, Message message, string pointer, string role, Action<string, string, string, bool> error)
    {
        foreach (var (field, owner) in RoleFields)
            if (owner != message.Role && element.TryGetProperty(field, out _))
                error($"{pointer}/{field}", DiagnosticCodes.FieldNotAllowedForRole,
                    $"'{field}' is not allowed on a {role} message, only on {owner.ToString().ToLowerInvariant()} messages. Remove it, or fix the role.", true);

        bool hasContent = element.TryGetProperty("content", out var content) && content.ValueKind != JsonValueKind.Null;
        switch (message.Role)
        {
            case Role.System or Role.User when !hasContent || content.ValueKind != JsonValueKind.String || content.GetString()!.Trim().Length == 0:
                error(hasContent ? pointer + "/content" : pointer, DiagnosticCodes.MissingContent,
                    $"a {role} message needs its text as a non-empty string in 'content'. Write the text there.", false);
                break;
            case Role.Assistant when hasContent && content.ValueKind != JsonValueKind.String:
                error(pointer + "/content", DiagnosticCodes.MissingContent,
                    "an assistant message's 'content' must be a string (the text the model says). Put structured output in tool_calls instead.", false);
                break;
            case Role.Assistant when !hasContent && message.ToolCalls is null:
                error(pointer, DiagnosticCodes.MissingContent,
                    "an assistant message needs 'content' or 'tool_calls'; this one has neither. Add the reply text or the calls.", false);
                break;
            case Role.Tool when !hasContent:
                error(pointer, DiagnosticCodes.MissingContent,
                    "a tool message needs 'content': the function's result (JSON or text). Add the result.", false);
                break;
        }
    }

    private static PendingCall CheckCall(JsonSource source, ToolCall call, JsonElement element, string pointer, HashSet<string> offered,
        IReadOnlyDictionary<string, CompiledFunction> functions, Dictionary<string, string> callIds, List<Diagnostic> diagnostics)
    {
        if (call.Id is not null && !callIds.TryAdd(call.Id, pointer))
            diagnostics.Add(source.Error(pointer + "/id", DiagnosticCodes.DuplicateCallId,
                $"the call id '{call.Id}' is already used by {callIds[call.Id]}; tool responses could not tell the calls apart. Give every call of the conversation its own id."));

        if (!offered.Contains(call.Name))
            diagnostics.Add(source.Error(pointer + "/name", DiagnosticCodes.CallToFunctionNotOffered,
                $"the assistant calls '{call.Name}', which this conversation does not offer (offered: {(offered.Count == 0 ? "none" : string.Join(", ", offered))}). Add it to the conversation's 'functions' or call an offered function{Closest(call.Name, offered)}."));
        else if (functions.TryGetValue(call.Name, out var function) && function.Arguments is { } schema)
        {
            IReadOnlyList<SchemaError> errors;
            try
            {
                errors = SchemaCheck.Check(schema, function.Parameters, element.GetProperty("arguments"));
            }
            catch (Exception e) when (e is Json.Schema.JsonSchemaException or Json.Schema.RefResolutionException)
            {
                errors = [new SchemaError("", false, $"the function's parameters schema could not be evaluated ({e.Message.TrimEnd('.')})")];
            }
            foreach (var error in errors)
                diagnostics.Add(source.Error(pointer + "/arguments" + error.Pointer, DiagnosticCodes.InvalidArguments,
                    error.UnknownProperty
                        ? $"{error.Message.Replace("unknown property", "unknown argument", StringComparison.Ordinal)}. '{call.Name}' ({function.Source.File}) does not take it; fix the name or remove it."
                        : $"the arguments of '{call.Name}' do not satisfy its parameters ({function.Source.File}): {error.Message}. Correct the argument.",
                    atName: error.UnknownProperty));
        }
        return new PendingCall(call.Id, call.Name, pointer);
    }

    private static void MatchResponse(Message message, string pointer, List<PendingCall> pending, Action<string, string, string, bool> error)
    {
        string calls = pending.Count == 0
            ? "the previous message makes no call"
            : "the open calls are " + string.Join(", ", pending.Where(c => !c.Answered).Select(c => c.Id is null ? $"'{c.Name}'" : $"'{c.Name}' (id '{c.Id}')").DefaultIfEmpty("none"));
        PendingCall? match;
        if (message.ToolCallId is { } id)
        {
            match = pending.FirstOrDefault(c => c.Id == id && !c.Answered);
            if (match is null)
            {
                error(pointer + "/tool_call_id", DiagnosticCodes.ResponseWithoutCall,
                    $"this tool response answers call id '{id}', but no unanswered call of the preceding assistant message has that id ({calls}). Fix the id, or add the call.", false);
                return;
            }
            if (message.Name is { } named && named != match.Name)
                error(pointer + "/name", DiagnosticCodes.AmbiguousToolResponse,
                    $"this tool response names '{named}' but call id '{id}' is a call to '{match.Name}'. Make the name and the id agree.", false);
        }
        else if (message.Name is { } name)
        {
            match = pending.FirstOrDefault(c => c.Name == name && !c.Answered);
            if (match is null)
            {
                error(pointer + "/name", DiagnosticCodes.ResponseWithoutCall,
                    $"this tool response answers '{name}', but the preceding assistant message has no unanswered call to it ({calls}). Fix the name, or add the call.", false);
                return;
            }
        }
        else
        {
            var open = pending.Where(c => !c.Answered).ToList();
            if (open.Count == 0)
            {
                error(pointer, DiagnosticCodes.ResponseWithoutCall,
                    $"this tool response answers no call: {calls}. A tool message must follow an assistant message with tool_calls; remove it or add the call.", false);
                return;
            }
            if (open.Count > 1)
            {
                error(pointer, DiagnosticCodes.AmbiguousToolResponse,
                    $"this tool response does not say which call it answers, and {open.Count} calls are open ({calls}). Add 'tool_call_id' (give the calls ids) or 'name'.", false);
                return;
            }
            match = open[0];
        }
        match.Answered = true;
    }

    /// <summary>" (did you mean 'x'?)" when a known name is one or two edits away.</summary>
    internal static string Closest(string name, IEnumerable<string> known)
    {
        string? best = known.MinBy(k => SchemaCheck.EditDistance(k, name));
        return best is not null && SchemaCheck.EditDistance(best, name) <= Math.Max(2, name.Length / 4) ? $" (did you mean '{best}'?)" : "";
    }
}
