using System.Text.Json.Nodes;

namespace FcTrain.Data;

// The data model of a dataset, as read from the versioned JSON files in datasets/.
// JSON property names are snake_case (OpenAI / Hermes style); see schemas/*.v1.schema.json.

/// <summary>Where a value came from: a file, and for JSONL files the 1-based line of the record.</summary>
public sealed record SourceSpan(string File, int Line = 0, int Column = 0);

/// <summary>A function the model may call (one file per function).</summary>
public sealed record FunctionDefinition(
    string Name,
    string Description,
    JsonObject Parameters,   // a JSON Schema of an object, as in OpenAI / Hermes tool definitions
    SourceSpan Source);

public enum Role { System, User, Assistant, Tool }

/// <summary>One call the assistant makes. Several in one message are parallel calls.</summary>
public sealed record ToolCall(string? Id, string Name, JsonObject Arguments);

/// <summary>
/// A message of a conversation.
/// System/user: <see cref="Content"/> is a string.
/// Assistant: optional <see cref="Thinking"/>, optional text <see cref="Content"/>, optional <see cref="ToolCalls"/>.
/// Tool: answers a call (by <see cref="ToolCallId"/>, else by <see cref="Name"/>); <see cref="Content"/> is JSON or a string.
/// <see cref="Train"/> false (assistant only): the turn stays in the context but the loss does not train it (OpenAI's <c>weight: 0</c>).
/// </summary>
public sealed record Message(
    Role Role,
    JsonNode? Content = null,
    string? Thinking = null,
    IReadOnlyList<ToolCall>? ToolCalls = null,
    string? ToolCallId = null,
    string? Name = null,
    bool Train = true)
{
    /// <summary>The content as text when it is a JSON string, else null.</summary>
    public string? Text => Content is JsonValue v && v.TryGetValue(out string? s) ? s : null;
}

public enum Split { Train, Eval }

/// <summary>A conversation: the functions it offers and its messages.</summary>
public sealed record Conversation(
    string Id,
    IReadOnlyList<string> Functions,
    IReadOnlyList<Message> Messages,
    SourceSpan Source,
    IReadOnlyList<string>? Tags = null);

/// <summary>Which conversations are held out for evaluation.</summary>
public sealed record SplitRule(
    IReadOnlyList<string>? EvalIds = null,  // explicit list of conversation ids, or
    double? EvalFraction = null,            // a stable hash of the id picks this share
    string Seed = "fctrain")                // salt of that hash
{
    /// <summary>
    /// The split of a conversation: listed in <see cref="EvalIds"/>, or else picked by the first 8 bytes of
    /// SHA-256(seed + "\n" + id) read as a fraction of 2^64, which is below <see cref="EvalFraction"/> for that share of ids.
    /// Stable across machines, runs and the order of files; adding a conversation never moves another.
    /// </summary>
    public Split Assign(string id)
    {
        if (EvalIds is not null) return EvalIds.Contains(id) ? Split.Eval : Split.Train;
        if (EvalFraction is not double fraction) return Split.Train;
        Span<byte> hash = stackalloc byte[32];
        System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{Seed}\n{id}"), hash);
        double unit = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(hash) / 18446744073709551616.0; // / 2^64
        return unit < fraction ? Split.Eval : Split.Train;
    }
}

/// <summary>How conversations are rendered into text for training.</summary>
public sealed record TemplateOptions(
    string Name = "course",            // "course" (agents course, default) or "gemma" (google/gemma-2-2b-it)
    string Serialization = "json",     // "json" (strict, canonical) or "hermes" (Python dict reprs)
    string ToolTokens = "reserved",    // "reserved" (map markup onto <unusedN>) or "added" (new tokens, resized embeddings)
    string TrainOn = "assistant");     // "assistant" (model turns only) or "all"

/// <summary>dataset.json: one per dataset folder.</summary>
public sealed record DatasetManifest(
    string Name,
    string Version,
    string Description,
    string License,
    IReadOnlyList<string> Functions,       // glob patterns relative to the dataset folder
    IReadOnlyList<string> Conversations,   // glob patterns (*.json one conversation, *.jsonl one per line)
    SplitRule Split,
    TemplateOptions Template,
    SourceSpan Source);

/// <summary>A loaded dataset: its manifest, functions and conversations, each conversation with its split.</summary>
public sealed record Dataset(
    DatasetManifest Manifest,
    string Directory,
    IReadOnlyList<FunctionDefinition> Functions,
    IReadOnlyList<(Conversation Conversation, Split Split)> Conversations);
