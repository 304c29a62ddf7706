using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FcTrain.Evaluation;

/// <summary>One tool call read from a generated model turn.</summary>
public sealed record ParsedToolCall(string Name, JsonObject Arguments);

/// <summary>Why a generated turn could not be read (a result of the evaluation, never an exception).</summary>
public sealed record ParseFailure(string Reason);

/// <summary>What kind of answer a model turn is.</summary>
public enum AnswerKind
{
    /// <summary>One or more tool calls.</summary>
    ToolCalls,
    /// <summary>Text only: an answer, e.g. the summary of tool results.</summary>
    Text,
    /// <summary>Text only, asking the user something back (its last sentence is a question).</summary>
    Clarification,
    /// <summary>Nothing but (maybe) thinking.</summary>
    Empty,
    /// <summary>The turn has tool markup that does not parse.</summary>
    ParseFailure,
}

/// <summary>A model turn split into its parts: thinking, tool calls, free text.</summary>
public sealed record ParsedTurn(string? Thinking, IReadOnlyList<ParsedToolCall> Calls, string Text, ParseFailure? Failure)
{
    public AnswerKind Kind =>
        Failure is not null ? AnswerKind.ParseFailure
        : Calls.Count > 0 ? AnswerKind.ToolCalls
        : ToolCallParser.KindOfText(Text);
}

/// <summary>
/// Reads a generated model turn in the course / Hermes format:
/// <c>&lt;think&gt;…&lt;/think&gt;&lt;tool_call&gt;\n{"name": …, "arguments": {…}}\n&lt;/tool_call&gt;</c> (several
/// blocks for parallel calls) or text. A call body is strict JSON or, as in the Hermes data, a Python
/// dict repr (single quotes, True/False/None). The input must be decoded with the markup kept: a decoder
/// that skips special tokens drops <c>&lt;tool_call&gt;</c> when it is one token and a call silently becomes text.
/// </summary>
public static class ToolCallParser
{
    public const string ThinkOpen = "<think>", ThinkClose = "</think>";
    public const string CallOpen = "<tool_call>", CallClose = "</tool_call>";

    // Turn terminators the generator may leave at the end of the decoded text.
    private static readonly string[] Terminators = ["<end_of_turn>", "<eos>"];

    public static ParsedTurn Parse(string generated)
    {
        string text = StripTerminators(generated);
        var calls = new List<ParsedToolCall>();
        var thinking = new List<string>();
        var free = new StringBuilder();
        ParseFailure? failure = null;

        int pos = 0;
        while (pos < text.Length && failure is null)
        {
            (int at, string tag) = NextTag(text, pos);
            if (at < 0) { free.Append(text, pos, text.Length - pos); break; }
            free.Append(text, pos, at - pos);
            int bodyStart = at + tag.Length;
            switch (tag)
            {
                case ThinkOpen:
                {
                    int end = text.IndexOf(ThinkClose, bodyStart, StringComparison.Ordinal);
                    if (end < 0) { thinking.Add(text[bodyStart..].Trim()); failure = new($"{ThinkOpen} is never closed by {ThinkClose}"); break; }
                    thinking.Add(text[bodyStart..end].Trim());
                    pos = end + ThinkClose.Length;
                    break;
                }
                case CallOpen:
                {
                    int end = text.IndexOf(CallClose, bodyStart, StringComparison.Ordinal);
                    int number = calls.Count + 1;
                    if (end < 0) { failure = new($"tool call {number}: {CallOpen} is never closed by {CallClose}"); break; }
                    int nested = text.IndexOf(CallOpen, bodyStart, end - bodyStart, StringComparison.Ordinal);
                    if (nested >= 0) { failure = new($"tool call {number}: {CallOpen} opens again before {CallClose}"); break; }
                    if (TryReadCall(text[bodyStart..end], out ParsedToolCall? call, out string? reason)) calls.Add(call!);
                    else failure = new($"tool call {number}: {reason}");
                    pos = end + CallClose.Length;
                    break;
                }
                default:
                    failure = new($"{tag} without a matching opening tag");
                    break;
            }
        }
        string? think = thinking.Count > 0 ? string.Join("\n", thinking) : null;
        return new ParsedTurn(think, calls, free.ToString().Trim(), failure);
    }

    /// <summary>Reads one call body: <c>{"name": "f", "arguments": {…}}</c> as JSON or a Python dict repr.</summary>
    public static bool TryReadCall(string body, out ParsedToolCall? call, out string? reason)
    {
        call = null;
        string trimmed = StripCodeFence(body.Trim());
        if (trimmed.Length == 0) { reason = "the call is empty"; return false; }
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(trimmed, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = false });
        }
        catch (JsonException json)
        {
            if (!PythonLiteral.TryParse(trimmed, out node, out string? python))
            {
                reason = $"neither JSON ({FirstSentence(json.Message)}) nor a Python literal ({python})";
                return false;
            }
        }
        if (node is not JsonObject obj) { reason = "the call is not an object with \"name\" and \"arguments\""; return false; }
        if (obj["name"] is not JsonValue nameValue || !nameValue.TryGetValue(out string? name) || string.IsNullOrWhiteSpace(name))
        {
            reason = "the call has no \"name\" string";
            return false;
        }
        // "arguments" (Hermes, OpenAI); some models write "parameters" (Llama 3.1 style).
        string key = obj.ContainsKey("arguments") || !obj.ContainsKey("parameters") ? "arguments" : "parameters";
        JsonObject arguments;
        switch (obj[key])
        {
            case null when !obj.ContainsKey(key): arguments = []; break;
            case JsonObject o: arguments = (JsonObject)o.DeepClone(); break;
            // OpenAI style: the arguments as a JSON string.
            case JsonValue v when v.TryGetValue(out string? encoded) && TryParseObject(encoded, out JsonObject? decoded): arguments = decoded!; break;
            default: reason = $"the arguments of '{name}' are not an object"; return false;
        }
        call = new ParsedToolCall(name, arguments);
        reason = null;
        return true;
    }

    /// <summary>Text, a clarification (the last sentence asks), or nothing.</summary>
    public static AnswerKind KindOfText(string text)
    {
        string t = text.Trim();
        if (t.Length == 0) return AnswerKind.Empty;
        return t.TrimEnd('"', '\'', ')', '*', '_').EndsWith('?') ? AnswerKind.Clarification : AnswerKind.Text;
    }

    // Models sometimes wrap the call in a Markdown code fence: ```json\n{…}\n```.
    private static string StripCodeFence(string body)
    {
        if (!body.StartsWith("```", StringComparison.Ordinal) || !body.EndsWith("```", StringComparison.Ordinal) || body.Length < 6) return body;
        int firstLine = body.IndexOf('\n');
        return firstLine < 0 ? body : body[(firstLine + 1)..^3].Trim();
    }

    private static bool TryParseObject(string text, out JsonObject? obj)
    {
        obj = null;
        try { obj = JsonNode.Parse(text) as JsonObject; }
        catch (JsonException) { if (PythonLiteral.TryParse(text, out JsonNode? node, out _)) obj = node as JsonObject; }
        return obj is not null;
    }

    private static (int At, string Tag) NextTag(string text, int from)
    {
        (int at, string tag) best = (-1, "");
        foreach (string tag in (ReadOnlySpan<string>)[ThinkOpen, ThinkClose, CallOpen, CallClose])
        {
            int at = text.IndexOf(tag, from, StringComparison.Ordinal);
            if (at >= 0 && (best.at < 0 || at < best.at)) best = (at, tag);
        }
        return best;
    }

    private static string StripTerminators(string text)
    {
        string t = text.TrimEnd();
        for (bool again = true; again;)
        {
            again = false;
            foreach (string end in Terminators)
                if (t.EndsWith(end, StringComparison.Ordinal)) { t = t[..^end.Length].TrimEnd(); again = true; }
        }
        return t;
    }

    private static string FirstSentence(string message)
    {
        int dot = message.IndexOf(". ", StringComparison.Ordinal);
        return dot > 0 ? message[..dot] : message.TrimEnd('.');
    }
}
