using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using FcTrain.Diagnostics;

namespace FcTrain.Validation;

/// <summary>Reads data files: size limit, UTF-8 check, strict JSON parse, JSONL records. Never writes.</summary>
internal static class JsonReading
{
    /// <summary>Files above this size are refused before they are read (a dataset file is text written by people).</summary>
    public const long MaxFileBytes = 16L * 1024 * 1024;

    private static readonly JsonDocumentOptions Strict = new() { AllowDuplicateProperties = false, MaxDepth = 64 };

    /// <summary>The bytes of a file, or null (with a diagnostic) when it is too large, unreadable or not UTF-8.</summary>
    public static ReadOnlyMemory<byte>? ReadFile(string path, string relative, List<Diagnostic> diagnostics)
    {
        byte[] bytes;
        try
        {
            long length = new FileInfo(path).Length;
            if (length > MaxFileBytes)
            {
                diagnostics.Add(new Diagnostic(relative, 0, 0, Severity.Error, DiagnosticCodes.FileTooLarge,
                    $"the file is {length / (1024.0 * 1024):F1} MiB, above the limit of {MaxFileBytes / (1024 * 1024)} MiB, so it was not read. Split it into several files (a *.jsonl file can be split anywhere between lines)."));
                return null;
            }
            bytes = File.ReadAllBytes(path);
        }
        catch (IOException e)
        {
            diagnostics.Add(new Diagnostic(relative, 0, 0, Severity.Error, DiagnosticCodes.UnsupportedFile, $"the file could not be read: {e.Message}. Check that it exists and is readable."));
            return null;
        }
        catch (UnauthorizedAccessException e)
        {
            diagnostics.Add(new Diagnostic(relative, 0, 0, Severity.Error, DiagnosticCodes.UnsupportedFile, $"the file could not be read: {e.Message}. Check its permissions."));
            return null;
        }

        ReadOnlyMemory<byte> text = bytes;
        if (text.Span.StartsWith("\uFEFF"u8)) text = text[3..];   // a UTF-8 byte order mark is tolerated
        if (!Utf8.IsValid(text.Span))
        {
            int bad = FirstInvalidUtf8(text.Span);
            var source = new JsonSource(relative, text, 1);
            diagnostics.Add(source.At(bad, Severity.Error, DiagnosticCodes.InvalidUtf8,
                $"byte 0x{text.Span[bad]:X2} at offset {bad} is not valid UTF-8; data files must be UTF-8 text. Re-save the file as UTF-8 (without changing its content otherwise)."));
            return null;
        }
        return text;
    }

    /// <summary>The records of a file: the whole text for *.json, each non-blank line for *.jsonl.</summary>
    public static IEnumerable<JsonSource> Records(string relative, ReadOnlyMemory<byte> text, bool jsonLines)
    {
        if (!jsonLines)
        {
            yield return new JsonSource(relative, text, 1);
            yield break;
        }
        int line = 1;
        for (int start = 0; start < text.Length; line++)
        {
            int end = text.Span[start..].IndexOf((byte)'\n');
            int next = end < 0 ? text.Length : start + end + 1;
            var record = text[start..(end < 0 ? text.Length : start + end)];
            if (record.Span.TrimEnd("\r\t "u8).Length > 0 && record.Span.Trim("\r\t "u8).Length > 0)
                yield return new JsonSource(relative, record, line);
            start = next;
        }
    }

    /// <summary>Parses one record strictly (no comments, no trailing commas, no duplicate properties).</summary>
    public static JsonElement? Parse(JsonSource source, List<Diagnostic> diagnostics)
    {
        try
        {
            using var document = JsonDocument.Parse(source.Text, Strict);
            return document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            int line = source.FirstLine + (int)(e.LineNumber ?? 0);
            int column = ColumnOf(source.Text.Span, (int)(e.LineNumber ?? 0), (int)(e.BytePositionInLine ?? 0));
            string what = e.Message;
            foreach (string tail in new[] { " Path:", " LineNumber:" })
                if (what.IndexOf(tail, StringComparison.Ordinal) is > 0 and int cut) what = what[..cut];
            diagnostics.Add(new Diagnostic(source.File, line, column, Severity.Error, DiagnosticCodes.MalformedJson,
                $"the text is not valid JSON: {what.TrimEnd('.')}. Fix the syntax at this position (strict JSON: no comments, no trailing commas, no duplicate keys, strings in double quotes)."));
            return null;
        }
    }

    /// <summary>1-based character column of a (0-based line, 0-based byte position) pair.</summary>
    private static int ColumnOf(ReadOnlySpan<byte> text, int line, int bytePosition)
    {
        int start = 0;
        for (int i = 0; i < line; i++)
        {
            int nl = text[start..].IndexOf((byte)'\n');
            if (nl < 0) break;
            start += nl + 1;
        }
        int end = Math.Min(text.Length, start + bytePosition);
        return Encoding.UTF8.GetCharCount(text[start..end]) + 1;
    }

    private static int FirstInvalidUtf8(ReadOnlySpan<byte> text)
    {
        char[] buffer = ArrayPool<char>.Shared.Rent(text.Length + 1);
        try
        {
            Utf8.ToUtf16(text, buffer, out int bytesRead, out _, replaceInvalidSequences: false);
            return bytesRead;
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
        }
    }
}
