using System.Text;
using System.Text.Json;
using FcTrain.Diagnostics;

namespace FcTrain.Validation;

/// <summary>
/// The UTF-8 text of one JSON document: a whole *.json file, or one line of a *.jsonl file.
/// Maps JSON pointers to 1-based line/column (columns count UTF-16 characters, as editors do);
/// the pointer map is built lazily, by one <see cref="Utf8JsonReader"/> pass, only when a problem must be located.
/// </summary>
internal sealed class JsonSource(string file, ReadOnlyMemory<byte> text, int firstLine)
{
    private Dictionary<string, (int Name, int Value)>? _pointers;

    /// <summary>The file, relative to the repository root, with '/'.</summary>
    public string File { get; } = file;
    public ReadOnlyMemory<byte> Text { get; } = text;
    /// <summary>1 for a *.json file; the line number for a JSONL record.</summary>
    public int FirstLine { get; } = firstLine;

    public Diagnostic At(int byteOffset, Severity severity, string code, string message)
    {
        var (line, column) = LineColumn(byteOffset);
        return new Diagnostic(File, line, column, severity, code, message);
    }

    /// <summary>A diagnostic at the value a pointer names; <paramref name="atName"/> points at its property name instead.</summary>
    /// <summary>The message is prefixed with the JSON pointer, so the exact place is named even without an editor.</summary>
    public Diagnostic At(string pointer, Severity severity, string code, string message, bool atName = false) =>
        At(Offset(pointer, atName), severity, code, $"{(pointer.Length == 0 ? "(root)" : pointer)}: {message}");

    public Diagnostic Error(string pointer, string code, string message, bool atName = false) =>
        At(pointer, Severity.Error, code, message, atName);

    public Diagnostic Warning(string pointer, string code, string message, bool atName = false) =>
        At(pointer, Severity.Warning, code, message, atName);

    /// <summary>The byte offset of the value at a pointer (or its property name), else of its nearest located ancestor.</summary>
    public int Offset(string pointer, bool atName = false)
    {
        _pointers ??= MapPointers(Text.Span);
        for (string p = pointer; ; p = p[..p.LastIndexOf('/')])
        {
            if (_pointers.TryGetValue(p, out var at)) return atName && at.Name >= 0 ? at.Name : at.Value;
            if (p.Length == 0) return 0;
        }
    }

    /// <summary>The first pointer (in document order) that satisfies a predicate, or null.</summary>
    public string? FindPointer(Func<string, bool> predicate)
    {
        _pointers ??= MapPointers(Text.Span);
        return _pointers.OrderBy(p => p.Value.Value).Select(p => p.Key).FirstOrDefault(predicate);
    }

    public (int Line, int Column) LineColumn(int byteOffset)
    {
        ReadOnlySpan<byte> span = Text.Span[..Math.Min(byteOffset, Text.Length)];
        int lineStart = span.LastIndexOf((byte)'\n') + 1;
        int line = FirstLine + span.Count((byte)'\n');
        int column = Encoding.UTF8.GetCharCount(span[lineStart..]) + 1;
        return (line, column);
    }

    /// <summary>Escapes one reference token of a JSON pointer (RFC 6901).</summary>
    public static string Escape(string token) => token.Replace("~", "~0").Replace("/", "~1");

    private static Dictionary<string, (int Name, int Value)> MapPointers(ReadOnlySpan<byte> json)
    {
        var map = new Dictionary<string, (int, int)>(StringComparer.Ordinal);
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
        // One frame per open container: its pointer, and the next array index (-1 for an object).
        var stack = new Stack<(string Pointer, int NextIndex)>();
        string? property = null;
        int nameOffset = -1;
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName)
                {
                    property = reader.GetString();
                    nameOffset = (int)reader.TokenStartIndex;
                    continue;
                }
                if (reader.TokenType is JsonTokenType.EndObject or JsonTokenType.EndArray)
                {
                    stack.Pop();
                    continue;
                }
                string pointer;
                int name = -1;
                if (stack.Count == 0) pointer = "";
                else if (stack.Peek().NextIndex < 0)
                {
                    pointer = stack.Peek().Pointer + "/" + Escape(property!);
                    name = nameOffset;
                }
                else
                {
                    var (parent, index) = stack.Pop();
                    stack.Push((parent, index + 1));
                    pointer = parent + "/" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);
                }
                map.TryAdd(pointer, (name, (int)reader.TokenStartIndex));
                if (reader.TokenType == JsonTokenType.StartObject) stack.Push((pointer, -1));
                else if (reader.TokenType == JsonTokenType.StartArray) stack.Push((pointer, 0));
            }
        }
        catch (JsonException)
        {
            // Only called on text that parsed; keep what was mapped if it somehow did not.
        }
        return map;
    }
}
