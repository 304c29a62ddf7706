using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FcTrain.Diagnostics;

namespace FcTrain.Interop;

/// <summary>
/// Reads the records of an input file, one JSON object each: *.jsonl streamed line by line (flat memory at any
/// size), *.json an array of objects (or one object), *.parquet row group by row group (<see cref="ParquetInput"/>).
/// A record that is not a JSON object is reported (file, line or row, reason) and skipped; a file that cannot be read
/// at all is reported once.
/// </summary>
public static class InputReader
{
    public static IEnumerable<InputRecord> Read(string fullPath, string shown, IReadOnlyList<string>? expectedColumns, ICollection<Diagnostic> diagnostics)
    {
        if (!File.Exists(fullPath))
        {
            diagnostics.Add(new Diagnostic(shown, 0, 0, Severity.Error, ImportCodes.BadInputPath, "no such input file. Check the path."));
            return [];
        }
        string extension = Path.GetExtension(fullPath).ToLowerInvariant();
        return extension switch
        {
            ".jsonl" => ReadJsonLines(fullPath, shown, diagnostics),
            ".json" => ReadJsonArray(fullPath, shown, diagnostics),
            ".parquet" => ParquetInput.Read(fullPath, shown, expectedColumns, diagnostics),
            _ => Unsupported(shown, diagnostics),
        };
    }

    private static IEnumerable<InputRecord> Unsupported(string shown, ICollection<Diagnostic> diagnostics)
    {
        diagnostics.Add(new Diagnostic(shown, 0, 0, Severity.Error, ImportCodes.BadInputPath,
            "unsupported input file type: use *.jsonl (one record per line), *.json (an array of records) or *.parquet."));
        return [];
    }

    private static IEnumerable<InputRecord> ReadJsonLines(string fullPath, string shown, ICollection<Diagnostic> diagnostics)
    {
        using var reader = new StreamReader(fullPath, new UTF8Encoding(false, true), detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
        int line = 0;
        long row = 0;
        while (true)
        {
            string? text = null;
            bool invalid = false;
            try { text = reader.ReadLine(); }
            catch (DecoderFallbackException) { invalid = true; }
            if (invalid)
                diagnostics.Add(new Diagnostic(shown, line + 1, 1, Severity.Error, ImportCodes.MalformedInput,
                    "invalid UTF-8: input files must be UTF-8 text; the records after this point cannot be read. Re-save the file as UTF-8."));
            if (text is null) yield break;
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            row++;
            JsonNode? node = null;
            try { node = JsonNode.Parse(text); }
            catch (JsonException e)
            {
                diagnostics.Add(new Diagnostic(shown, line, (int)(e.BytePositionInLine ?? 0) + 1, Severity.Error, ImportCodes.MalformedInput,
                    $"malformed JSON: {FirstSentence(e.Message)}. Fix the record or pass --skip-invalid to leave it out."));
                continue;
            }
            if (node is JsonObject obj) yield return new InputRecord(obj, shown, line, 1, row);
            else diagnostics.Add(NotAnObject(shown, line, 1));
        }
    }

    private static IEnumerable<InputRecord> ReadJsonArray(string fullPath, string shown, ICollection<Diagnostic> diagnostics)
    {
        byte[] bytes = File.ReadAllBytes(fullPath);
        int start = bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? 3 : 0;
        var records = new List<InputRecord>();
        var lines = new LineCounter(bytes, start);
        var reader = new Utf8JsonReader(bytes.AsSpan(start), new JsonReaderOptions { MaxDepth = 128 });
        try
        {
            if (!reader.Read()) throw new JsonException("the file is empty");
            if (reader.TokenType == JsonTokenType.StartObject)
            {
                if (JsonNode.Parse(ref reader) is JsonObject single) records.Add(new InputRecord(single, shown, 1, 1, 1));
            }
            else if (reader.TokenType == JsonTokenType.StartArray)
            {
                long row = 0;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    row++;
                    var (line, column) = lines.At(start + (int)reader.TokenStartIndex);
                    var node = JsonNode.Parse(ref reader);
                    if (node is JsonObject obj) records.Add(new InputRecord(obj, shown, line, column, row));
                    else diagnostics.Add(NotAnObject(shown, line, column));
                }
            }
            else throw new JsonException("a *.json input must hold an array of records (or one record)");
        }
        catch (JsonException e)
        {
            var (line, column) = lines.At(start + (int)reader.BytesConsumed);
            diagnostics.Add(new Diagnostic(shown, line, column, Severity.Error, ImportCodes.MalformedInput,
                $"malformed JSON: {FirstSentence(e.Message)}; the records after this point cannot be read. Fix the file."));
        }
        return records;
    }

    private static Diagnostic NotAnObject(string shown, int line, int column) =>
        new(shown, line, column, Severity.Error, ImportCodes.MalformedInput, "this record is not a JSON object. Each record must be an object of the format's fields.");

    internal static string FirstSentence(string message)
    {
        int cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut >= 0) message = message[..cut];
        cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut >= 0) message = message[..cut];
        return message.Trim().TrimEnd('.');
    }

    /// <summary>Line and column of byte offsets visited in increasing order (one pass over the file).</summary>
    private sealed class LineCounter(byte[] bytes, int first)
    {
        private readonly int _first = first;
        private int _offset = first, _line = 1, _lineStart = first;

        public (int Line, int Column) At(int offset)
        {
            offset = Math.Min(offset, bytes.Length);
            if (offset < _offset) { _offset = _first; _line = 1; _lineStart = _first; }
            for (; _offset < offset; _offset++)
                if (bytes[_offset] == '\n') { _line++; _lineStart = _offset + 1; }
            return (_line, Encoding.UTF8.GetCharCount(bytes, _lineStart, offset - _lineStart) + 1);
        }
    }
}
