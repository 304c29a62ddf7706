using System.Text.Json;
using FcTrain.Diagnostics;
using Json.Schema;

namespace FcTrain.Validation;

/// <summary>One failed assertion of a JSON Schema: where in the instance, and what went wrong.</summary>
internal sealed record SchemaError(string Pointer, bool UnknownProperty, string Message);

/// <summary>Which of fctrain's versioned schemas a file is checked against.</summary>
internal enum SchemaKind { Function, Conversation, Dataset }

/// <summary>
/// fctrain's own schemas (embedded copies of schemas/*.v1.schema.json), compiled once into one registry,
/// and the evaluation of any compiled schema into located, readable errors.
/// </summary>
internal sealed class SchemaCheck
{
    private static readonly EvaluationOptions Flag = new() { OutputFormat = OutputFormat.Flag };
    private static readonly EvaluationOptions Hierarchical = new() { OutputFormat = OutputFormat.Hierarchical };

    public static SchemaCheck Instance { get; } = new();

    private readonly Dictionary<SchemaKind, (JsonSchema Schema, JsonElement Document, string FileName, string Id)> _schemas = [];

    private SchemaCheck()
    {
        var options = new BuildOptions { SchemaRegistry = new SchemaRegistry() };
        foreach (var (kind, name) in new[] { (SchemaKind.Function, "function"), (SchemaKind.Conversation, "conversation"), (SchemaKind.Dataset, "dataset") })
        {
            string fileName = $"{name}.v1.schema.json";
            using Stream stream = typeof(SchemaCheck).Assembly.GetManifestResourceStream("fctrain.schemas." + fileName)
                ?? throw new InvalidOperationException($"embedded schema {fileName} is missing from {typeof(SchemaCheck).Assembly.GetName().Name}");
            JsonElement document = JsonDocument.Parse(stream).RootElement.Clone();
            string id = document.GetProperty("$id").GetString()!;
            _schemas[kind] = (JsonSchema.Build(document, options), document, fileName, id);
        }
    }

    /// <summary>The schema's file name in schemas/, e.g. conversation.v1.schema.json.</summary>
    public string FileName(SchemaKind kind) => _schemas[kind].FileName;

    /// <summary>The schema's versioned <c>$id</c>.</summary>
    public string Id(SchemaKind kind) => _schemas[kind].Id;

    /// <summary>
    /// Reports every schema error of a record (FCT0004 unknown property, FCT0005 other). Returns whether the record
    /// can still be read: unknown properties alone do not stop the semantic checks, so one run finds those problems too.
    /// </summary>
    public bool Report(JsonSource source, SchemaKind kind, JsonElement instance, List<Diagnostic> diagnostics)
    {
        var errors = Check(kind, instance);
        string schemaName = FileName(kind);
        foreach (var error in errors)
        {
            diagnostics.Add(error.UnknownProperty
                ? source.Error(error.Pointer, DiagnosticCodes.UnknownProperty,
                    $"{error.Message}. {schemaName} does not define it, so it would be ignored; fix the spelling or remove it.", atName: true)
                : source.Error(error.Pointer, DiagnosticCodes.SchemaViolation,
                    $"{error.Message}. The value does not satisfy {schemaName}; correct it."));
        }
        return errors.All(e => e.UnknownProperty);
    }

    /// <summary>
    /// FCT0006: <c>$schema</c> must name this kind's schema, by its path (any folder: its file name is compared)
    /// or its <c>$id</c>. JSONL records may leave it out.
    /// </summary>
    public void CheckSchemaReference(JsonSource source, JsonElement root, SchemaKind kind, bool required, List<Diagnostic> diagnostics)
    {
        if (root.ValueKind != JsonValueKind.Object) return;   // the schema check reports it
        string expected = FileName(kind);
        if (!root.TryGetProperty("$schema", out var value))
        {
            if (required)
                diagnostics.Add(source.Error("", DiagnosticCodes.WrongSchemaReference,
                    $"the file does not name its schema. Add \"$schema\": \"<relative path>/schemas/{expected}\" as its first property, so editors validate it and a future v2 can be told apart."));
            return;
        }
        string? text = value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        if (text is null) return;   // the schema check reports the type
        string fileName = text[(text.LastIndexOfAny(['/', '\\']) + 1)..];
        if (fileName != expected && text != Id(kind))
            diagnostics.Add(source.Error("/$schema", DiagnosticCodes.WrongSchemaReference,
                $"'$schema' is \"{text}\" but this file is read as a {kind.ToString().ToLowerInvariant()} ({expected}, $id {Id(kind)}). Point it at {expected}, or move the file where the dataset's globs expect that kind."));
    }

    public IReadOnlyList<SchemaError> Check(SchemaKind kind, JsonElement instance)
    {
        var (schema, document, _, _) = _schemas[kind];
        return Check(schema, document, instance);
    }

    /// <summary>Evaluates an instance; fast flag evaluation first, the detailed list only when it fails.</summary>
    public static IReadOnlyList<SchemaError> Check(JsonSchema schema, JsonElement schemaDocument, JsonElement instance)
    {
        if (schema.Evaluate(instance, Flag).IsValid) return [];
        var errors = new List<SchemaError>();
        Collect(schema.Evaluate(instance, Hierarchical), schemaDocument, errors);
        // anyOf / oneOf branches report one failure each at the same place: keep one line per place.
        return errors
            .GroupBy(e => (e.Pointer, e.UnknownProperty))
            .Select(g => g.Key.UnknownProperty ? g.First() : new SchemaError(g.Key.Pointer, false, string.Join("; or ", g.Select(e => e.Message).Distinct())))
            .ToList();
    }

    /// <summary>
    /// The failed assertions under a failed node. Walking the hierarchy (not the flat list) skips the failed
    /// branches of an anyOf/oneOf that passed as a whole.
    /// </summary>
    private static void Collect(EvaluationResults node, JsonElement schemaDocument, List<SchemaError> errors)
    {
        if (node.IsValid) return;
        string pointer = node.InstanceLocation.ToString();
        foreach (var (keyword, message) in node.Errors ?? new Dictionary<string, string>())
        {
            bool unknown = keyword.Length == 0 && node.EvaluationPath.ToString().EndsWith("/additionalProperties", StringComparison.Ordinal);
            errors.Add(unknown
                ? new SchemaError(pointer, true, UnknownProperty(pointer, schemaDocument, node.SchemaLocation))
                : new SchemaError(pointer, false, Describe(keyword, message, schemaDocument, node.SchemaLocation)));
        }
        foreach (var child in node.Details ?? []) Collect(child, schemaDocument, errors);
    }

    /// <summary>The library's message, made specific with what the schema allows (enum values, pattern, constant).</summary>
    private static string Describe(string keyword, string message, JsonElement schemaDocument, Uri? schemaLocation)
    {
        message = message.TrimEnd('.');
        JsonElement? subschema = Subschema(schemaDocument, schemaLocation?.Fragment ?? "");
        if (subschema is { ValueKind: JsonValueKind.Object } s)
        {
            if (keyword == "enum" && s.TryGetProperty("enum", out var values))
                return $"the value is not one of {string.Join(", ", values.EnumerateArray().Select(v => v.GetRawText()))}";
            if (keyword == "const" && s.TryGetProperty("const", out var constant))
                return $"{message}: expected {constant.GetRawText()}";
            if (keyword == "pattern" && s.TryGetProperty("pattern", out var pattern))
                return $"{message}: expected text matching {pattern.GetRawText()}";
        }
        if (keyword == "oneOf") return $"{message} (give exactly one of the alternatives)";
        return message;
    }

    /// <summary>"unknown property 'x'", with the properties allowed there and the closest one when it looks like a typo.</summary>
    private static string UnknownProperty(string pointer, JsonElement schemaDocument, Uri? schemaLocation)
    {
        string name = pointer[(pointer.LastIndexOf('/') + 1)..].Replace("~1", "/").Replace("~0", "~");
        string message = $"unknown property '{name}'";
        // The location reads ".../additionalProperties/<name>"; the object's schema is what precedes it.
        string fragment = schemaLocation?.Fragment ?? "";
        int cut = fragment.LastIndexOf("/additionalProperties", StringComparison.Ordinal);
        if (cut >= 0 && Subschema(schemaDocument, fragment[..cut]) is { ValueKind: JsonValueKind.Object } owner
            && owner.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object)
        {
            var allowed = properties.EnumerateObject().Select(p => p.Name).ToList();
            string? closest = allowed.MinBy(a => EditDistance(a, name));
            if (closest is not null && EditDistance(closest, name) <= Math.Max(2, name.Length / 3))
                message += $" (did you mean '{closest}'?)";
            message += $"; allowed here: {string.Join(", ", allowed)}";
        }
        return message;
    }

    internal static int EditDistance(string a, string b)
    {
        var row = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) row[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }

    /// <summary>The subschema a URI fragment (#/json/pointer) names, if the document has it.</summary>
    private static JsonElement? Subschema(JsonElement document, string fragment)
    {
        if (document.ValueKind == JsonValueKind.Undefined) return null;
        JsonElement current = document;
        foreach (string raw in Uri.UnescapeDataString(fragment.TrimStart('#')).Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            string token = raw.Replace("~1", "/").Replace("~0", "~");
            if (current.ValueKind == JsonValueKind.Object && current.TryGetProperty(token, out var next)) current = next;
            else if (current.ValueKind == JsonValueKind.Array && int.TryParse(token, out int i) && i < current.GetArrayLength()) current = current[i];
            else return null;
        }
        return current;
    }
}
