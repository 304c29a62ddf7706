using System.Text.Json;
using FcTrain.Data;
using FcTrain.Diagnostics;

namespace FcTrain.Validation;

/// <summary>
/// Reads one data file into schema-valid JSON documents: enforces the size limits, splits JSONL into
/// one record per line, checks UTF-8, syntax, <c>$schema</c> and the schema itself. Every problem is reported;
/// a record whose shape is broken is left out (the rules that follow need it); one with only unknown
/// properties or a wrong <c>$schema</c> is kept, marked unclean, so its other problems are reported in the same run.
/// </summary>
/// <summary>A record read from a data file. Clean: no problem found so far.</summary>
internal sealed record DataRecord(JsonRecord Json, JsonDocument Document, bool Clean);

internal static class DataFileReader
{
    private static readonly byte[] Bom = [0xEF, 0xBB, 0xBF];

    /// <summary>
    /// The records of a file that have the schema's shape (documents must be disposed by the caller), and whether
    /// the file is complete: readable, every record kept.
    /// </summary>
    public static (List<DataRecord> Records, bool Complete) Read(
        string fullPath, string file, DataKind kind, LoadOptions options, ICollection<Diagnostic> diagnostics)
    {
        var records = new List<DataRecord>();
        long length = new FileInfo(fullPath).Length;
        if (length > options.MaxFileBytes)
        {
            diagnostics.Add(new Diagnostic(file, 0, 0, Severity.Error, DiagnosticCodes.TooLarge,
                $"file is {length:N0} bytes, over the limit of {options.MaxFileBytes:N0}: split it into several files (a *.jsonl file can hold many conversations)."));
            return (records, false);
        }
        ReadOnlyMemory<byte> bytes = File.ReadAllBytes(fullPath);
        if (bytes.Span.StartsWith(Bom)) bytes = bytes[Bom.Length..];

        bool jsonl = fullPath.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase);
        if (!jsonl) return (records, ReadRecord(file, bytes, 1, kind, options, diagnostics, records));
        int line = 1;
        bool complete = true;
        while (bytes.Length > 0)
        {
            int end = bytes.Span.IndexOf((byte)'\n');
            var text = end < 0 ? bytes : bytes[..end];
            if (text.Span.EndsWith("\r"u8)) text = text[..^1];
            if (!text.Span.Trim(" \t"u8).IsEmpty) complete &= ReadRecord(file, text, line, kind, options, diagnostics, records);
            bytes = end < 0 ? ReadOnlyMemory<byte>.Empty : bytes[(end + 1)..];
            line++;
        }
        return (records, complete);
    }

    /// <summary>Reads one record; false when it was left out.</summary>
    private static bool ReadRecord(string file, ReadOnlyMemory<byte> bytes, int line, DataKind kind, LoadOptions options,
        ICollection<Diagnostic> diagnostics, List<DataRecord> records)
    {
        if (bytes.Length > options.MaxRecordBytes)
        {
            diagnostics.Add(new Diagnostic(file, line, 1, Severity.Error, DiagnosticCodes.TooLarge,
                $"this {kind.ToString().ToLowerInvariant()} is {bytes.Length:N0} bytes, over the limit of {options.MaxRecordBytes:N0} per record: shorten it (training examples this long do not fit the context anyway)."));
            return false;
        }
        if (JsonRecord.Parse(file, bytes, line, diagnostics) is not var (record, document)) return false;
        var (clean, shaped) = CheckSchema(record, document.RootElement, kind, diagnostics);
        if (shaped) records.Add(new DataRecord(record, document, clean));
        else document.Dispose();
        return shaped;
    }

    /// <summary>
    /// Checks <c>$schema</c> and the JSON Schema of <paramref name="kind"/>. Clean: both pass. Shaped: the only
    /// failures are unknown properties or the <c>$schema</c> name, so the record can still be read and checked.
    /// </summary>
    private static (bool Clean, bool Shaped) CheckSchema(JsonRecord record, JsonElement root, DataKind kind, ICollection<Diagnostic> diagnostics)
    {
        var schemas = DataSchemas.V1;
        bool clean = true, shaped = true;
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("$schema", out var named)
            && named.ValueKind == JsonValueKind.String && !schemas.IsNamedBy(kind, named.GetString()!))
        {
            diagnostics.Add(record.Error("/$schema", DiagnosticCodes.WrongSchema,
                $"names the schema '{named.GetString()}', but this file is read as a {kind.ToString().ToLowerInvariant()}, whose schema is {schemas.FileName(kind)}. "
                + $"Point $schema at schemas/{schemas.FileName(kind)} (relative to this file), or move the file to where the dataset manifest expects it."));
            clean = false;
        }
        foreach (var group in SchemaErrors.Evaluate(schemas.Schema(kind), schemas.Source(kind), root).GroupBy(e => e.Pointer))
        {
            clean = false;
            foreach (var unknown in group.Where(e => e.IsUnknownProperty))
            {
                diagnostics.Add(record.Error(unknown.Pointer, DiagnosticCodes.UnknownProperty, UnknownPropertyMessage(unknown, "property"), atName: true));
                record.ObjectsWithUnknownProperties.Add(unknown.Pointer[..unknown.Pointer.LastIndexOf('/')]);
            }
            var rest = group.Where(e => !e.IsUnknownProperty).Select(e => e.Message).Distinct().ToList();
            if (rest.Count == 0) continue;
            shaped = false;
            string what = string.Join("; or ", rest).TrimEnd('.');
            if (kind == DataKind.Function && (group.Key == "/parameters" || group.Key.StartsWith("/parameters/", StringComparison.Ordinal)))
            {
                if (group.Key.EndsWith("/type", StringComparison.Ordinal) && group.Key != "/parameters/type")
                    what = $"{JsonPointerText.Resolve(root, group.Key)?.GetRawText()} is not a JSON Schema type (use string, number, integer, boolean, object, array or null, or an array of them)";
                diagnostics.Add(record.Error(group.Key, DiagnosticCodes.InvalidParametersSchema,
                    $"'parameters' is not a valid JSON Schema of an object: {what}. Write it as in OpenAI tool definitions: {{\"type\": \"object\", \"properties\": {{…}}, \"required\": […]}} (draft 2020-12)."));
                continue;
            }
            diagnostics.Add(record.Error(group.Key, DiagnosticCodes.SchemaViolation,
                    $"{what}. See schemas/{schemas.FileName(kind)} for the shape of a {kind.ToString().ToLowerInvariant()} file."));
        }
        return (clean, shaped);
    }

    /// <summary>"unknown property 'contnet' (did you mean 'content'?); allowed here: …".</summary>
    public static string UnknownPropertyMessage(SchemaError error, string noun)
    {
        var allowed = error.AllowedProperties ?? [];
        string list = allowed.Count > 0 ? $"; allowed here: {string.Join(", ", allowed)}" : "";
        return $"unknown {noun} '{error.PropertyName}'{NameHints.DidYouMean(error.PropertyName, allowed)}{list}. Fix the name or remove it (typos are rejected, not ignored).";
    }
}
