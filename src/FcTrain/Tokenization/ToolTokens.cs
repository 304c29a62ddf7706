namespace FcTrain.Tokenization;

/// <summary>How the tool markup tags become single tokens.</summary>
public enum ToolTokenMode
{
    /// <summary>Map each tag onto one of Gemma's reserved <c>&lt;unusedN&gt;</c> pieces: no new embeddings, base model untouched.</summary>
    Reserved,
    /// <summary>Append the tags as new tokens (ids 256000…), as the agents course does; the embeddings must be resized.</summary>
    Added,
}

/// <summary>The tool markup tags of the Hermes function-calling format, in the order they get ids.</summary>
public static class ToolTokens
{
    public static readonly IReadOnlyList<string> Markup =
        ["<tools>", "</tools>", "<think>", "</think>", "<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>"];

    /// <summary>The reserved piece a tag replaces in <see cref="ToolTokenMode.Reserved"/> mode: <c>&lt;unused0&gt;</c> onwards.</summary>
    public static string ReservedPiece(int markupIndex) => $"<unused{markupIndex}>";

    /// <summary>Parses the option value ("reserved" or "added").</summary>
    public static ToolTokenMode ParseMode(string value, string source = "fctrain") => value switch
    {
        "reserved" => ToolTokenMode.Reserved,
        "added" => ToolTokenMode.Added,
        _ => throw Diagnostics.FcTrainException.Error("FCT0110",
            $"unknown tool_tokens '{value}': use 'reserved' (map the markup onto Gemma's <unusedN> tokens) or 'added' (new tokens, resized embeddings).", source),
    };

    public static string Name(ToolTokenMode mode) => mode == ToolTokenMode.Reserved ? "reserved" : "added";
}
