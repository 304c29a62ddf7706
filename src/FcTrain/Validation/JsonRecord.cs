using System.Text;
using System.Text.Json;
using FcTrain.Diagnostics;

namespace FcTrain.Validation;

/// <summary>
/// One JSON document of a data file: a whole *.json file, or one line of a *.jsonl file.
/// Parsing is one pass; the map from JSON pointers to line/column is built only when a
/// diagnostic needs it (valid data, the common case, never pays for it).
/// </summary>
internal sealed class JsonRecord
{
    private Dictionary<string, (int Name, int Value)>? _offsets;

    private JsonRecord(string file, ReadOnlyMemory<byte> bytes, int firstLine)
    {
        File = file;
        Bytes = bytes;
        FirstLine = firstLine;
    }

    /// <summary>The file, relative to the repository root, with '/' separators.</summary>
    public string File { get; }

    /// <summary>The UTF-8 text of this record (no BOM, no line terminator).</summary>
    public ReadOnlyMemory<byte> Bytes { get; }

    /// <summary>The 1-based line of the file on which <see cref="Bytes"/> starts.</summary>
    public int FirstLine { get; }

    /// <summary>JSON pointers of the objects holding an unknown property (already reported): a missing field
    /// there is most likely the misspelt one, so the rules do not report it again.</summary>
    public HashSet<string> ObjectsWithUnknownProperties { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Parses a record. On invalid UTF-8 or malformed JSON, reports it (with line and column) and returns null.
    /// The document must be disposed by the caller.
    /// </summary>
    public static (JsonRecord Record, JsonDocument Document)? Parse(string file, ReadOnlyMemory<byte> bytes, int firstLine, ICollection<Diagnostic> diagnostics)
    {
        var record = new JsonRecord(file, bytes, firstLine);
        if (FirstInvalidUtf8(bytes.Span) is int bad)
        {
            var (line, column) = record.Position(bad);
            diagnostics.Add(new Diagnostic(file, line, column, Severity.Error, DiagnosticCodes.InvalidUtf8,
                $"invalid UTF-8 byte 0x{bytes.Span[bad]:X2}: data files must be UTF-8 text. Re-save the file as UTF-8."));
            return null;
        }
        JsonDocument? document = null;
        string? unreadable = null;
        try
        {
            var options = new JsonDocumentOptions { AllowDuplicateProperties = false, MaxDepth = 64 };
            document = JsonDocument.Parse(bytes, options);
        }
        catch (JsonException e)
        {
            diagnostics.Add(record.MalformedJson(e));
            return null;
        }
        catch (InvalidOperationException e)
        {
            // The duplicate-name check decodes property names: a lone surrogate escape in one lands here.
            unreadable = e.Message;
        }
        if (JsonText.FirstUnrepresentable(bytes.Span) is var (offset, code, problem))
        {
            document?.Dispose();
            var (line, column) = record.Position(offset);
            diagnostics.Add(new Diagnostic(file, line, column, Severity.Error, code, problem));
            return null;
        }
        if (document is null)
        {
            diagnostics.Add(new Diagnostic(file, firstLine, 1, Severity.Error, DiagnosticCodes.MalformedJson, $"malformed JSON: {unreadable}"));
            return null;
        }
        return (record, document);
    }

    /// <summary>Line and column (1-based, in characters) of a JSON pointer: the property name when
    /// <paramref name="atName"/> and the value is a property, else the value. A pointer that does not
    /// exist is located at its nearest existing parent.</summary>
    public (int Line, int Column) Locate(string pointer, bool atName = false)
    {
        _offsets ??= ScanOffsets(Bytes.Span).Offsets;
        for (string p = pointer; ; p = p[..p.LastIndexOf('/')])
        {
            if (_offsets.TryGetValue(p, out var at)) return Position(atName && at.Name >= 0 ? at.Name : at.Value);
            if (p.Length == 0) return (FirstLine, 1);
        }
    }

    private Diagnostic MalformedJson(JsonException e)
    {
        int line, column;
        string what = e.Message;
        int cut = what.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut >= 0) what = what[..cut];
        cut = what.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut >= 0) what = what[..cut];
        if (e.LineNumber is long l && e.BytePositionInLine is long b)
        {
            int offset = OffsetOfLine((int)l) + (int)b;
            (line, column) = Position(Math.Min(offset, Bytes.Length));
        }
        else
        {
            // System.Text.Json reports duplicate properties without a position: find it ourselves.
            var duplicate = ScanOffsets(Bytes.Span).FirstDuplicate;
            (line, column) = duplicate >= 0 ? Position(duplicate) : (FirstLine, 1);
        }
        return new Diagnostic(File, line, column, Severity.Error, DiagnosticCodes.MalformedJson,
            $"malformed JSON: {what.TrimEnd('.')}. Fix the syntax at this position (a JSON validator or editor with the schema shows it).");
    }

    private int OffsetOfLine(int lineIndex)
    {
        var span = Bytes.Span;
        int offset = 0;
        for (int i = 0; i < lineIndex; i++)
        {
            int next = span[offset..].IndexOf((byte)'\n');
            if (next < 0) return span.Length;
            offset += next + 1;
        }
        return offset;
    }

    /// <summary>1-based line and column (in characters) of a byte offset of this record.</summary>
    internal (int Line, int Column) Position(int offset)
    {
        var span = Bytes.Span[..offset];
        int lineStart = span.LastIndexOf((byte)'\n') + 1;
        int line = FirstLine + span.Count((byte)'\n');
        int column = 1;
        foreach (byte b in span[lineStart..]) if ((b & 0xC0) != 0x80) column++;
        return (line, column);
    }

    private static int? FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        if (System.Text.Unicode.Utf8.IsValid(bytes)) return null;
        int offset = 0;
        while (offset < bytes.Length)
        {
            if (Rune.DecodeFromUtf8(bytes[offset..], out _, out int consumed) != System.Buffers.OperationStatus.Done) return offset;
            offset += consumed;
        }
        return null;
    }

    /// <summary>One reader pass: the byte offset of every value (and of its property name) by JSON pointer.</summary>
    private static (Dictionary<string, (int Name, int Value)> Offsets, int FirstDuplicate) ScanOffsets(ReadOnlySpan<byte> bytes)
    {
        var offsets = new Dictionary<string, (int, int)>(StringComparer.Ordinal);
        var containers = new Stack<(string Pointer, bool IsArray, int Index, HashSet<string>? Names)>();
        int firstDuplicate = -1, nameOffset = -1;
        string? property = null;
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { MaxDepth = 64 });
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName)
                {
                    property = reader.GetString()!;
                    nameOffset = (int)reader.TokenStartIndex;
                    var names = containers.Peek().Names!;
                    if (!names.Add(property) && firstDuplicate < 0) firstDuplicate = nameOffset;
                    continue;
                }
                if (reader.TokenType is JsonTokenType.EndObject or JsonTokenType.EndArray)
                {
                    containers.Pop();
                    continue;
                }
                string pointer;
                int name = -1;
                if (containers.Count == 0) pointer = "";
                else
                {
                    var top = containers.Pop();
                    if (top.IsArray)
                    {
                        pointer = $"{top.Pointer}/{top.Index}";
                        top.Index++;
                    }
                    else
                    {
                        pointer = $"{top.Pointer}/{JsonPointerText.Escape(property!)}";
                        name = nameOffset;
                    }
                    containers.Push(top);
                }
                offsets.TryAdd(pointer, (name, (int)reader.TokenStartIndex));
                if (reader.TokenType == JsonTokenType.StartObject) containers.Push((pointer, false, 0, new HashSet<string>(StringComparer.Ordinal)));
                else if (reader.TokenType == JsonTokenType.StartArray) containers.Push((pointer, true, 0, null));
            }
        }
        catch (JsonException)
        {
            // Only called on documents that parsed, or to locate a duplicate before a later syntax error.
        }
        return (offsets, firstDuplicate);
    }
}

/// <summary>JSON pointer (RFC 6901) text helpers.</summary>
internal static class JsonPointerText
{
    public static string Escape(string token) => token.Replace("~", "~0").Replace("/", "~1");

    public static string Unescape(string token) => token.Replace("~1", "/").Replace("~0", "~");

    /// <summary>The value at a pointer, or null when there is none.</summary>
    public static JsonElement? Resolve(JsonElement root, string pointer)
    {
        JsonElement node = root;
        foreach (string token in pointer.Split('/').Skip(1))
        {
            string name = Unescape(token);
            if (node.ValueKind == JsonValueKind.Object && node.TryGetProperty(name, out var next)) node = next;
            else if (node.ValueKind == JsonValueKind.Array && int.TryParse(name, out int i) && i >= 0 && i < node.GetArrayLength()) node = node[i];
            else return null;
        }
        return node;
    }

    /// <summary>How a pointer is shown in messages: the root is "/" rather than the empty string.</summary>
    public static string Show(string pointer) => pointer.Length == 0 ? "/" : pointer;
}

internal static class JsonRecordDiagnostics
{
    /// <summary>An error at a JSON pointer of a record; the message starts with the pointer.</summary>
    public static Diagnostic Error(this JsonRecord record, string pointer, string code, string message, bool atName = false) =>
        record.At(pointer, Severity.Error, code, message, atName);

    public static Diagnostic Warning(this JsonRecord record, string pointer, string code, string message, bool atName = false) =>
        record.At(pointer, Severity.Warning, code, message, atName);

    private static Diagnostic At(this JsonRecord record, string pointer, Severity severity, string code, string message, bool atName)
    {
        var (line, column) = record.Locate(pointer, atName);
        return new Diagnostic(record.File, line, column, severity, code, $"{JsonPointerText.Show(pointer)}: {message}");
    }
}
