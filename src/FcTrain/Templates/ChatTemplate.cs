using System.Text;
using System.Text.Json.Nodes;
using FcTrain.Data;
using FcTrain.Diagnostics;
using FcTrain.Tokenization;

namespace FcTrain.Templates;

/// <summary>
/// Renders a conversation the way <c>tokenizer.apply_chat_template</c> renders the equivalent Hugging Face
/// messages, as <see cref="Segment"/>s. Two templates:
/// <list type="bullet">
/// <item><c>course</c> (default), the agents course's template: <c>{{ bos_token }}</c>, then per message
/// <c>'&lt;start_of_turn&gt;' + role + '\n' + content | trim + '&lt;end_of_turn&gt;&lt;eos&gt;\n'</c> with the roles
/// <c>human</c>, <c>model</c>, <c>tool</c>; the system text (Hermes preamble with the offered tools, then the
/// conversation's own system message) is merged into the first user turn followed by the course's "Also, before
/// making a call…" sentence.</item>
/// <item><c>gemma</c>, google/gemma-2-2b-it's own template: roles <c>user</c>/<c>model</c> that must alternate,
/// <c>'&lt;end_of_turn&gt;\n'</c>, no system role (the system text is merged into the first user turn followed by a
/// blank line), tool results are user turns (consecutive ones joined by a newline).</item>
/// </list>
/// Assistant turns: <c>&lt;think&gt;thinking&lt;/think&gt;</c>, the text, then one
/// <c>&lt;tool_call&gt;\n{"name": …, "arguments": …}\n&lt;/tool_call&gt;</c> per call, newline-separated; tool turns:
/// <c>&lt;tool_response&gt;\n{"name": …, "content": …}\n&lt;/tool_response&gt;</c>.
/// </summary>
public static class ChatTemplate
{
    public const string ThinkingInstruction =
        "Also, before making a call to a function take the time to plan the function to take. Make that thinking process between <think>{your thoughts}</think>\n\n";

    private static readonly JsonObject PydanticFunctionCall = (JsonObject)JsonNode.Parse(
        """{"properties": {"arguments": {"title": "Arguments", "type": "object"}, "name": {"title": "Name", "type": "string"}}, "required": ["arguments", "name"], "title": "FunctionCall", "type": "object"}""")!;

    /// <summary>A turn as HF sees it: the role string and the content (before <c>| trim</c>). Train false: an assistant
    /// turn marked <c>"train": false</c>, kept in the text, never trained.</summary>
    private sealed record Turn(string Role, List<Segment> Content, bool Assistant, bool Train = true);

    /// <summary>
    /// Renders <paramref name="conversation"/>. <paramref name="functions"/> are the dataset's definitions (the
    /// conversation offers some of them by name). With <paramref name="addGenerationPrompt"/> the render ends with
    /// the opening of a model turn: render the messages before an assistant turn that way to prompt for it.
    /// </summary>
    public static IReadOnlyList<Segment> Render(Conversation conversation, IReadOnlyList<FunctionDefinition> functions, TemplateOptions options, bool addGenerationPrompt = false)
    {
        string where = conversation.Source.File;
        var serialization = ValueSerializer.Parse(options.Serialization, where);
        bool course = options.Name switch
        {
            "course" => true,
            "gemma" => false,
            _ => throw FcTrainException.Error("FCT0121", $"unknown template '{options.Name}': use 'course' (the agents course's template) or 'gemma' (google/gemma-2-2b-it's).", where),
        };
        bool trainAll = options.TrainOn switch
        {
            "all" => true,
            "assistant" => false,
            _ => throw FcTrainException.Error("FCT0122", $"unknown train_on '{options.TrainOn}': use 'assistant' (model turns only) or 'all'.", where),
        };

        var turns = Turns(conversation, Offered(conversation, functions), serialization, course);
        var segments = new List<Segment> { Segment.Token("<bos>", trainAll) };
        foreach (var turn in turns)
        {
            bool trained = turn.Train && (trainAll || turn.Assistant);
            segments.Add(Segment.Token("<start_of_turn>", trainAll && turn.Train));
            segments.Add(Segment.Plain(turn.Role + "\n", trainAll && turn.Train));
            segments.AddRange(Trim(turn.Content).Select(s => s with { Trained = trained }));
            segments.Add(Segment.Token("<end_of_turn>", trained));
            if (course) segments.Add(Segment.Token("<eos>", trained));
            segments.Add(Segment.Plain("\n", trainAll));
        }
        if (addGenerationPrompt)
        {
            segments.Add(Segment.Token("<start_of_turn>", trainAll));
            segments.Add(Segment.Plain("model\n", trainAll));
        }
        return Coalesce(segments);
    }

    /// <summary>The rendered text: what apply_chat_template returns.</summary>
    public static string Text(IEnumerable<Segment> segments)
    {
        var text = new StringBuilder();
        foreach (var segment in segments) text.Append(segment.Text);
        return text.ToString();
    }

    private static List<FunctionDefinition> Offered(Conversation conversation, IReadOnlyList<FunctionDefinition> functions)
    {
        var byName = functions.ToDictionary(f => f.Name, StringComparer.Ordinal);
        return conversation.Functions.Select(name => byName.TryGetValue(name, out var f) ? f
            : throw FcTrainException.Error("FCT0123", $"conversation '{conversation.Id}' offers the function '{name}', which its dataset does not define. Add a function file for it or remove it from the conversation's functions.",
                conversation.Source.File, conversation.Source.Line, conversation.Source.Column)).ToList();
    }

    private static List<Turn> Turns(Conversation conversation, List<FunctionDefinition> offered, Serialization serialization, bool course)
    {
        var source = conversation.Source;
        FcTrainException Error(string message) => FcTrainException.Error("FCT0124", $"conversation '{conversation.Id}': {message}", source.File, source.Line, source.Column);

        // The system text: the Hermes preamble for the offered tools, then the conversation's own system message.
        var system = new List<Segment>();
        if (PreambleCache.Count > 4096) PreambleCache.Clear();
        if (offered.Count > 0) system.AddRange(PreambleCache.GetOrAdd((Key(offered), serialization), _ => Preamble(offered, serialization).ToArray()));
        var messages = conversation.Messages.ToList();
        if (messages.Count > 0 && messages[0].Role == Role.System)
        {
            if (system.Count > 0) system.Add(Segment.Plain("\n\n"));
            system.Add(Segment.Plain(TextOf(messages[0], serialization)));
            messages.RemoveAt(0);
        }

        var turns = new List<Turn>();
        var calls = new Dictionary<string, string>(StringComparer.Ordinal);   // tool_call id -> function name
        foreach (var message in messages)
        {
            switch (message.Role)
            {
                case Role.System:
                    throw Error("a system message is only allowed first. Merge it into the first system message.");
                case Role.User:
                    var content = new List<Segment>();
                    if (turns.Count == 0 && system.Count > 0)
                    {
                        content.AddRange(system);
                        content.AddRange(course ? Marked(ThinkingInstruction) : [Segment.Plain("\n\n")]);
                    }
                    content.Add(Segment.Plain(TextOf(message, serialization)));
                    turns.Add(new Turn(course ? "human" : "user", content, false));
                    break;
                case Role.Assistant:
                    foreach (var call in message.ToolCalls ?? []) if (call.Id is not null) calls[call.Id] = call.Name;
                    turns.Add(new Turn("model", AssistantContent(message, serialization), true, message.Train));
                    break;
                case Role.Tool:
                    string name = message.Name ?? (message.ToolCallId is not null && calls.TryGetValue(message.ToolCallId, out var n) ? n
                        : throw Error($"a tool message answers no known call (tool_call_id '{message.ToolCallId}', no name). Give it the name of the function or the id of an earlier call."));
                    var response = ToolResponse(name, message.Content, serialization);
                    if (!course && turns.Count > 0 && turns[^1] is { Role: "user", Assistant: false } last && last.Content[0].Text == "<tool_response>")
                    {
                        last.Content.Add(Segment.Plain("\n"));
                        last.Content.AddRange(response);
                    }
                    else turns.Add(new Turn(course ? "tool" : "user", response, false));
                    break;
            }
        }
        if (system.Count > 0 && (turns.Count == 0 || turns[0].Role is not ("human" or "user") || turns[0].Content[0].Text == "<tool_response>"))
            throw Error("the system text (tools, system message) goes into the first user message, but the conversation does not start with a user message. Start it with a user message.");
        if (!course)
            for (int i = 0; i < turns.Count; i++)
                if ((turns[i].Role == "user") != (i % 2 == 0))
                    throw Error($"the gemma template needs turns alternating user/model starting with user, but turn {i + 1} is '{turns[i].Role}'. Use the course template, or fix the order of the messages.");
        return turns;
    }

    private static List<Segment> AssistantContent(Message message, Serialization serialization)
    {
        var content = new List<Segment>();
        if (message.Thinking is { } thinking)
            content.AddRange([Segment.Token("<think>"), Segment.Plain(thinking), Segment.Token("</think>")]);
        if (message.Content is not null) content.Add(Segment.Plain(TextOf(message, serialization)));
        var toolCalls = message.ToolCalls ?? [];
        for (int i = 0; i < toolCalls.Count; i++)
        {
            if (i > 0 || message.Content is not null) content.Add(Segment.Plain("\n"));
            var call = new JsonObject { ["name"] = toolCalls[i].Name, ["arguments"] = ValueSerializer.Canonical(toolCalls[i].Arguments) };
            content.AddRange([Segment.Token("<tool_call>"), Segment.Plain("\n" + ValueSerializer.Serialize(call, serialization) + "\n"), Segment.Token("</tool_call>")]);
        }
        return content;
    }

    private static List<Segment> ToolResponse(string name, JsonNode? result, Serialization serialization)
    {
        var response = new JsonObject { ["name"] = name, ["content"] = ValueSerializer.Canonical(result) };
        return [Segment.Token("<tool_response>"), Segment.Plain("\n" + ValueSerializer.Serialize(response, serialization) + "\n"), Segment.Token("</tool_response>")];
    }

    /// <summary>A message's text: its string content, or the serialized JSON value it holds.</summary>
    private static string TextOf(Message message, Serialization serialization) =>
        message.Text ?? (message.Content is null ? "" : ValueSerializer.Serialize(ValueSerializer.Canonical(message.Content), serialization));

    // Conversations of a dataset offer the same tools again and again: the preamble is built once per tool set.
    // The key is the identity of the definitions (records holding mutable JSON), not their names.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string, Serialization), Segment[]> PreambleCache = new();
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<FunctionDefinition, string> Identities = new();
    private static long _nextIdentity;

    private static string Key(List<FunctionDefinition> offered) =>
        string.Join(",", offered.Select(f => Identities.GetValue(f, _ => Interlocked.Increment(ref _nextIdentity).ToString(System.Globalization.CultureInfo.InvariantCulture))));

    /// <summary>The Hermes function-calling system prompt (NousResearch's wording, kept verbatim, odd spacing included).</summary>
    private static IEnumerable<Segment> Preamble(List<FunctionDefinition> offered, Serialization serialization)
    {
        var tools = new JsonArray(offered.Select(f => (JsonNode)new JsonObject
        {
            ["type"] = "function",
            ["function"] = new JsonObject
            {
                ["name"] = f.Name,
                ["description"] = f.Description,
                ["parameters"] = ValueSerializer.Canonical(f.Parameters),
            },
        }).ToArray());
        return Marked(
            "You are a function calling AI model. You are provided with function signatures within <tools></tools> XML tags." +
            "You may call one or more functions to assist with the user query. Don't make assumptions about what values to plug into functions." +
            "Here are the available tools:<tools> ").Append(Segment.Plain(ValueSerializer.Serialize(tools, serialization)))
            .Concat(Marked(" </tools>Use the following pydantic model json schema for each tool call you will make: "))
            .Append(Segment.Plain(ValueSerializer.Serialize(PydanticFunctionCall, serialization)))
            .Concat(Marked("For each function call return a json object with function name and arguments within <tool_call></tool_call> XML tags as follows:\n<tool_call>\n{tool_call}\n</tool_call>"));
    }

    /// <summary>
    /// Template-owned text with the tool markup as tokens: the HF tokenizer with the markup tokens registered
    /// reads these tags as single tokens too. (Message text never goes through here: it stays text.)
    /// </summary>
    private static List<Segment> Marked(string text)
    {
        var segments = new List<Segment>();
        int start = 0;
        while (start < text.Length)
        {
            int at = -1; string? tag = null;
            foreach (string candidate in ToolTokens.Markup)
            {
                int i = text.IndexOf(candidate, start, StringComparison.Ordinal);
                if (i >= 0 && (at < 0 || i < at || i == at && candidate.Length > tag!.Length)) { at = i; tag = candidate; }
            }
            if (tag is null) { segments.Add(Segment.Plain(text[start..])); break; }
            if (at > start) segments.Add(Segment.Plain(text[start..at]));
            segments.Add(Segment.Token(tag));
            start = at + tag.Length;
        }
        return segments;
    }

    /// <summary>Jinja's <c>| trim</c> (Python <c>str.strip()</c>) on the content's text at both ends.</summary>
    private static List<Segment> Trim(List<Segment> content)
    {
        var result = content.Where(s => s.IsToken || s.Text.Length > 0).ToList();
        while (result.Count > 0 && !result[0].IsToken)
        {
            string trimmed = TrimStart(result[0].Text);
            if (trimmed.Length > 0) { result[0] = result[0] with { Text = trimmed }; break; }
            result.RemoveAt(0);
        }
        while (result.Count > 0 && !result[^1].IsToken)
        {
            string trimmed = TrimEnd(result[^1].Text);
            if (trimmed.Length > 0) { result[^1] = result[^1] with { Text = trimmed }; break; }
            result.RemoveAt(result.Count - 1);
        }
        return result;
    }

    // Python's str.isspace: .NET's white space plus the information separators U+001C..U+001F.
    private static bool IsPythonSpace(char c) => char.IsWhiteSpace(c) || c is >= '\x1c' and <= '\x1f';

    private static string TrimStart(string s)
    {
        int i = 0;
        while (i < s.Length && IsPythonSpace(s[i])) i++;
        return s[i..];
    }

    private static string TrimEnd(string s)
    {
        int i = s.Length;
        while (i > 0 && IsPythonSpace(s[i - 1])) i--;
        return s[..i];
    }

    /// <summary>Joins neighbouring text segments with the same training flag.</summary>
    private static List<Segment> Coalesce(List<Segment> segments)
    {
        var result = new List<Segment>(segments.Count);
        foreach (var s in segments)
        {
            if (!s.IsToken && s.Text.Length == 0) continue;
            if (result.Count > 0 && !s.IsToken && !result[^1].IsToken && result[^1].Trained == s.Trained)
                result[^1] = result[^1] with { Text = result[^1].Text + s.Text };
            else result.Add(s);
        }
        return result;
    }
}
