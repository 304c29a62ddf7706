using System.Text.Json;
using FcTrain.Data;
using FcTrain.Diagnostics;

namespace FcTrain.Validation;

/// <summary>
/// Rules of one conversation beyond its schema: offered functions exist, every call names an offered function
/// with arguments valid for its parameters, responses answer calls, calls are answered before the conversation
/// moves on, and roles come in an order a chat template can render.
/// </summary>
internal static class ConversationRules
{
    /// <summary>Checks a conversation (<paramref name="functionsComplete"/>: every function file was readable); adds the names of the functions it calls to <paramref name="called"/>.</summary>
    public static void Check(Conversation conversation, JsonRecord record, JsonElement root,
        IReadOnlyDictionary<string, CompiledFunction> functions, bool functionsComplete, ISet<string> called, ICollection<Diagnostic> diagnostics)
    {
        var offered = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < conversation.Functions.Count; i++)
        {
            string name = conversation.Functions[i];
            if (!offered.Add(name))
                diagnostics.Add(record.Error($"/functions/{i}", DiagnosticCodes.Duplicate,
                    $"'{name}' is offered twice. Remove the second entry."));
            else if (functionsComplete && !functions.ContainsKey(name)) // else its file may be the unreadable one
                diagnostics.Add(record.Error($"/functions/{i}", DiagnosticCodes.UnknownFunction,
                    $"offers '{name}', which no function file of this dataset defines{NameHints.DidYouMean(name, functions.Keys)}. Add functions/{name}.json or fix the name."));
        }

        var messages = conversation.Messages;
        var callIds = new Dictionary<string, string>(StringComparer.Ordinal); // id -> pointer of the call
        var pending = new List<(ToolCall Call, string Pointer)>();           // calls still waiting for a response
        bool anyAssistant = false;
        Role? previous = null;
        for (int i = 0; i < messages.Count; i++)
        {
            var m = messages[i];
            string at = $"/messages/{i}";
            CheckShape(m, at, record, diagnostics);
            CheckOrder(m, i, previous, at, record, diagnostics);

            if (m.Role is Role.User or Role.Assistant)
            {
                // The conversation moves on: every call must have been answered by now.
                foreach (var (call, pointer) in pending)
                    diagnostics.Add(record.Error(pointer, DiagnosticCodes.CallWithoutResponse,
                        $"the call to '{call.Name}' gets no tool response before the next {m.Role.ToString().ToLowerInvariant()} turn (message {i}). "
                        + "Add a tool message answering it (with its tool_call_id) right after the assistant turn, or remove the call."));
                pending.Clear();
            }
            if (m.Role == Role.Assistant)
            {
                anyAssistant = true;
                var calls = m.ToolCalls ?? [];
                var callsJson = calls.Count > 0 ? root.GetProperty("messages")[i].GetProperty("tool_calls") : default;
                for (int j = 0; j < calls.Count; j++)
                {
                    string pointer = $"{at}/tool_calls/{j}";
                    CheckCall(calls[j], pointer, callsJson[j].GetProperty("arguments"), offered, functions, record, called, diagnostics);
                    if (calls[j].Id is string id && !callIds.TryAdd(id, pointer))
                        diagnostics.Add(record.Error($"{pointer}/id", DiagnosticCodes.Duplicate,
                            $"call id '{id}' is already used by {callIds[id]}. Give each call of a conversation its own id."));
                    pending.Add((calls[j], pointer));
                }
            }
            else if (m.Role == Role.Tool)
            {
                Answer(m, at, pending, callIds, record, diagnostics);
            }
            if (m.Role != Role.System) previous = m.Role; // a misplaced system message is reported once, not again by the next turn
        }
        if (!anyAssistant)
            diagnostics.Add(record.Warning("/messages", DiagnosticCodes.NoAssistantTurn,
                "the conversation has no assistant turn, so it trains nothing and yields no evaluation case. Add the assistant's reply."));
    }

    /// <summary>Which fields each role may carry.</summary>
    private static void CheckShape(Message m, string at, JsonRecord record, ICollection<Diagnostic> diagnostics)
    {
        string role = m.Role.ToString().ToLowerInvariant();
        void Reject(string property, string why) =>
            diagnostics.Add(record.Error($"{at}/{property}", DiagnosticCodes.MessageShape, $"a {role} message cannot have '{property}': {why}", atName: true));

        if (m.Role != Role.Assistant && m.Thinking is not null) Reject("thinking", "only assistant turns think. Move it to the assistant message.");
        if (m.Role != Role.Assistant && m.ToolCalls is not null) Reject("tool_calls", "only the assistant calls functions. Move the calls to an assistant message.");
        if (m.Role != Role.Tool && m.ToolCallId is not null) Reject("tool_call_id", "it links a tool response to its call. Remove it, or make this a tool message.");
        if (m.Role != Role.Tool && m.Name is not null) Reject("name", "it names the function a tool response answers. Remove it, or make this a tool message.");
        if (m.Role != Role.Assistant && !m.Train) Reject("train", "only assistant turns are trained. Remove it (the template's train_on decides for other roles).");

        if (m.Role == Role.Assistant && m.Content is not null && m.Text is null)
            diagnostics.Add(record.Error($"{at}/content", DiagnosticCodes.MessageShape,
                "an assistant's 'content' must be text; put calls in 'tool_calls' and structured results in tool messages."));

        // Fields a role needs. Where the object has an unknown property, a missing field is most likely the
        // misspelt one, already reported.
        if (record.ObjectsWithUnknownProperties.Contains(at)) return;
        if (m.Role is Role.System or Role.User && m.Text is null)
            diagnostics.Add(record.Error(m.Content is null ? at : $"{at}/content", DiagnosticCodes.MessageShape,
                $"a {role} message needs 'content' as a string. Write the {role} text there."));
        if (m.Role == Role.Assistant)
        {
            if (m.Content is null && m.ToolCalls is null)
                diagnostics.Add(record.Error(at, DiagnosticCodes.MessageShape,
                    "an assistant message needs 'content' (the reply) or 'tool_calls' (the calls), or both; 'thinking' alone renders an empty turn."));
        }
        if (m.Role == Role.Tool)
        {
            if (m.Content is null)
                diagnostics.Add(record.Error(at, DiagnosticCodes.MessageShape,
                    "a tool message needs 'content': the function's result as JSON or text."));
            if (m.ToolCallId is null && m.Name is null)
                diagnostics.Add(record.Error(at, DiagnosticCodes.MessageShape,
                    "a tool message must say which call it answers: add 'tool_call_id' (the call's id) or 'name' (the function)."));
        }
    }

    /// <summary>
    /// The orders a chat template can render: [system] user, then assistant and user alternating, where an
    /// assistant turn with calls may be followed by tool responses and another assistant turn.
    /// A tool message out of place is reported as a response without a call.
    /// </summary>
    private static void CheckOrder(Message m, int index, Role? previous, string at, JsonRecord record, ICollection<Diagnostic> diagnostics)
    {
        string? problem = (m.Role, previous) switch
        {
            (Role.System, _) when index > 0 => "a system message may only come first. Merge it into the first system message.",
            (Role.User, Role.User) => "two user turns in a row. Merge them into one user message (chat templates require user and assistant to alternate).",
            (Role.User, Role.Tool) => "a user turn follows tool results; the assistant must answer them first. Add an assistant message before this one.",
            (Role.Assistant, null) => "the conversation must start with a user turn (after an optional system message). Add the user's request first.",
            (Role.Assistant, Role.Assistant) => "two assistant turns in a row. Merge them into one assistant message.",
            _ => null,
        };
        if (problem is not null)
            diagnostics.Add(record.Error($"{at}/role", DiagnosticCodes.RoleOrder, $"impossible order: {problem}"));
    }

    private static void CheckCall(ToolCall call, string pointer, JsonElement arguments, HashSet<string> offered,
        IReadOnlyDictionary<string, CompiledFunction> functions, JsonRecord record, ISet<string> called, ICollection<Diagnostic> diagnostics)
    {
        called.Add(call.Name);
        if (!offered.Contains(call.Name))
        {
            diagnostics.Add(record.Error($"{pointer}/name", DiagnosticCodes.CallNotOffered,
                $"calls '{call.Name}', which this conversation does not offer{NameHints.DidYouMean(call.Name, offered)}; the model only sees the offered functions. "
                + $"Add '{call.Name}' to 'functions' or call one of: {(offered.Count > 0 ? string.Join(", ", offered) : "(none offered)")}."));
            return;
        }
        if (!functions.TryGetValue(call.Name, out var function) || function.Arguments is null) return; // reported where the function is defined
        if (function.Guard.FirstSlowMatch(arguments) is var (pattern, at))
        {
            diagnostics.Add(record.Error($"{pointer}/arguments{at}", DiagnosticCodes.PatternTimeout,
                $"the pattern '{pattern}' of '{call.Name}' ({function.Record.File}) took more than {ParameterSchemaGuard.MatchTimeout.TotalSeconds:0} s to match this argument "
                + "(catastrophic backtracking, e.g. nested quantifiers like (a+)+). Simplify the pattern."));
            return;
        }
        foreach (var group in SchemaErrors.Evaluate(function.Arguments, function.ParametersSource, arguments).GroupBy(e => e.Pointer))
        {
            foreach (var unknown in group.Where(e => e.IsUnknownProperty))
                diagnostics.Add(record.Error($"{pointer}/arguments{unknown.Pointer}", DiagnosticCodes.InvalidArguments,
                    $"'{call.Name}': " + DataFileReader.UnknownPropertyMessage(unknown, "argument"), atName: true));
            var rest = group.Where(e => !e.IsUnknownProperty).Select(e => e.Message.TrimEnd('.')).Distinct().ToList();
            if (rest.Count > 0)
                diagnostics.Add(record.Error($"{pointer}/arguments{group.Key}", DiagnosticCodes.InvalidArguments,
                    $"the arguments do not match the parameters of '{call.Name}' ({function.Record.File}): {string.Join("; or ", rest)}. "
                    + "Fix the call (or the function's parameters if they are wrong)."));
        }
    }

    /// <summary>Matches a tool message to the call it answers: by tool_call_id, else the first waiting call of that name.</summary>
    private static void Answer(Message m, string at, List<(ToolCall Call, string Pointer)> pending, Dictionary<string, string> callIds,
        JsonRecord record, ICollection<Diagnostic> diagnostics)
    {
        int index;
        if (m.ToolCallId is string id)
        {
            index = pending.FindIndex(p => p.Call.Id == id);
            if (index < 0)
            {
                string why = callIds.TryGetValue(id, out var earlier)
                    ? $"the call {earlier} with that id was already answered or belongs to an earlier turn"
                    : pending.Count > 0
                        ? $"no call has that id; waiting calls: {string.Join(", ", pending.Select(p => p.Call.Id ?? p.Call.Name))}"
                        : "no call is waiting for a response here";
                diagnostics.Add(record.Error($"{at}/tool_call_id", DiagnosticCodes.ResponseWithoutCall,
                    $"tool response to '{id}' matches no call: {why}. Fix the id, or add the assistant's call before it."));
                return;
            }
            if (m.Name is string name && name != pending[index].Call.Name)
                diagnostics.Add(record.Error($"{at}/name", DiagnosticCodes.ResponseWithoutCall,
                    $"the response names '{name}' but call '{id}' is to '{pending[index].Call.Name}'. Fix the name or the id."));
        }
        else if (m.Name is string name)
        {
            index = pending.FindIndex(p => p.Call.Name == name);
            if (index < 0)
            {
                diagnostics.Add(record.Error($"{at}/name", DiagnosticCodes.ResponseWithoutCall,
                    $"tool response from '{name}' matches no waiting call{(pending.Count > 0 ? $" (waiting: {string.Join(", ", pending.Select(p => p.Call.Name))})" : "")}. "
                    + "Add the assistant's call before it, or remove this response."));
                return;
            }
        }
        else return; // reported by CheckShape
        pending.RemoveAt(index);
    }
}
