using System.Text.Json;
using FcTrain.Data;
using FcTrain.Diagnostics;

namespace FcTrain.Validation;

/// <summary>
/// Reads one data file into schema-valid JSON documents: enforces the size limits, splits JSONL into
/// one record per line, checks UTF-8, syntax, <c>$schema</c> and the schema itself. Every problem is reported;
/// a record with problems is left out (the rules that follow need a well-formed shape).
/// </summary>
internal static class DataFileReader
{
    private static readonly byte[] Bom = [0xEF, 0xBB, 0xBF];

    /// <summary>The schema-valid records of a file. Documents must be disposed by the caller.</summary>
    public static List<(JsonRecord Record, JsonDocument Document)> Read(
        string fullPath, string file, DataKind kind, LoadOptions options, ICollection<Diagnostic> diagnostics)
    {
        var records = new List<(JsonRecord, JsonDocument)>();
        long length = new FileInfo(fullPath).Length;
        if (length > options.MaxFileBytes)
        {
            diagnostics.Add(new Diagnostic(file, 0, 0, Severity.Error, DiagnosticCodes.TooLarge,
                $"file is {length:N0} bytes, over the limit of {options.MaxFileBytes:N0}: split it into several files (a *.jsonl file can hold many conversations)."));
            return records;
        }
        ReadOnlyMemory<byte> bytes = File.ReadAllBytes(fullPath);
        if (bytes.Span.StartsWith(Bom)) bytes = bytes[Bom.Length..];

        bool jsonl = fullPath.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase);
        if (!jsonl)
        {
            ReadRecord(file, bytes, 1, kind, options, diagnostics, records);
            return records;
        }
        int line = 1;
        while (bytes.Length > 0)
        {
            int end = bytes.Span.IndexOf((byte)'\n');
            var text = end < 0 ? bytes : bytes[..end];
            if (text.Span.EndsWith("\r"u8)) text = text[..^1];
            if (!text.Span.Trim(" \t"u8).IsEmpty) ReadRecord(file, text, line, kind, options, diagnostics, records);
            bytes = end < 0 ? ReadOnlyMemory<byte>.Empty : bytes[(end + 1)..];
            line++;
        }
        return records;
    }

    private static void ReadRecord(string file, ReadOnlyMemory<byte> bytes, int line, DataKind kind, LoadOptions options,
        ICollection<Diagnostic> diagnostics, List<(JsonRecord, JsonDocument)> records)
    {
        if (bytes.Length > options.MaxRecordBytes)
        {
            diagnostics.Add(new Diagnostic(file, line, 1, Severity.Error, DiagnosticCodes.TooLarge,
                $"this {kind.ToString().ToLowerInvariant()} is {bytes.Length:N0} bytes, over the limit of {options.MaxRecordBytes:N0} per record: shorten it (training examples this long do not fit the context anyway)."));
            return;
        }
        if (JsonRecord.Parse(file, bytes, line, diagnostics) is not var (record, document)) return;
        if (CheckSchema(record, document.RootElement, kind, diagnostics)) records.Add((record, document));
        else document.Dispose();
    }

    /// <summary>Checks <c>$schema</c> and the JSON Schema of <paramref name="kind"/>; true when both pass.</summary>
    private static bool CheckSchema(JsonRecord record, JsonElement root, DataKind kind, ICollection<Diagnostic> diagnostics)
    {
        var schemas = DataSchemas.V1;
        bool ok = true;
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("$schema", out var named)
            && named.ValueKind == JsonValueKind.String && !schemas.IsNamedBy(kind, named.GetString()!))
        {
            diagnostics.Add(record.Error("/$schema", DiagnosticCodes.WrongSchema,
                $"names the schema '{named.GetString()}', but this file is read as a {kind.ToString().ToLowerInvariant()}, whose schema is {schemas.FileName(kind)}. "
                + $"Point $schema at schemas/{schemas.FileName(kind)} (relative to this file), or move the file to where the dataset manifest expects it."));
            ok = false;
        }
        foreach (var group in SchemaErrors.Evaluate(schemas.Schema(kind), schemas.Source(kind), root).GroupBy(e => e.Pointer))
        {
            ok = false;
            foreach (var unknown in group.Where(e => e.IsUnknownProperty))
                diagnostics.Add(record.Error(unknown.Pointer, DiagnosticCodes.UnknownProperty, UnknownPropertyMessage(unknown, "property"), atName: true));
            var rest = group.Where(e => !e.IsUnknownProperty).Select(e => e.Message).Distinct().ToList();
            if (rest.Count == 0) continue;
            string what = string.Join("; or ", rest).TrimEnd('.');
            diagnostics.Add(kind == DataKind.Function && (group.Key == "/parameters" || group.Key.StartsWith("/parameters/", StringComparison.Ordinal))
                ? record.Error(group.Key, DiagnosticCodes.InvalidParametersSchema,
                    $"'parameters' is not a valid JSON Schema of an object: {what}. Write it as in OpenAI tool definitions: {{\"type\": \"object\", \"properties\": {{…}}, \"required\": […]}} (draft 2020-12).")
                : record.Error(group.Key, DiagnosticCodes.SchemaViolation,
                    $"{what}. See schemas/{schemas.FileName(kind)} for the shape of a {kind.ToString().ToLowerInvariant()} file."));
        }
        return ok;
    }

    /// <summary>"unknown property 'contnet' (did you mean 'content'?); allowed here: …".</summary>
    public static string UnknownPropertyMessage(SchemaError error, string noun)
    {
        string name = error.PropertyName;
        var allowed = error.AllowedProperties ?? [];
        string? guess = allowed.MinBy(a => EditDistance(a, name));
        string hint = guess is not null && EditDistance(guess, name) <= Math.Max(2, name.Length / 3) ? $" (did you mean '{guess}'?)" : "";
        string list = allowed.Count > 0 ? $"; allowed here: {string.Join(", ", allowed)}" : "";
        return $"unknown {noun} '{name}'{hint}{list}. Fix the name or remove it (unknown {noun}s are rejected so typos cannot pass silently).";
    }

    private static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1], previous[j]) + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
