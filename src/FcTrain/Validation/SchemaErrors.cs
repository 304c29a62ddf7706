using System.Text.Json;
using Json.Schema;

namespace FcTrain.Validation;

/// <summary>One failed schema keyword: where in the instance, which keyword, and what the schema allows there.</summary>
internal sealed record SchemaError(string Pointer, string Keyword, string Message, IReadOnlyList<string>? AllowedProperties)
{
    /// <summary>An <c>additionalProperties: false</c> failure: the property at <see cref="Pointer"/> is not allowed.</summary>
    public bool IsUnknownProperty => AllowedProperties is not null;

    public string PropertyName => JsonPointerText.Unescape(Pointer[(Pointer.LastIndexOf('/') + 1)..]);
}

/// <summary>Evaluates a compiled schema and flattens its output to the failures a user must fix.</summary>
internal static class SchemaErrors
{
    private static readonly EvaluationOptions Fast = new() { OutputFormat = OutputFormat.Flag };
    private static readonly EvaluationOptions Detailed = new() { OutputFormat = OutputFormat.Hierarchical };

    /// <summary>
    /// The failures of <paramref name="instance"/>, one per instance location and keyword.
    /// <paramref name="schemaSource"/> is the schema's JSON, used to list the properties allowed where an unknown one appears.
    /// </summary>
    public static IReadOnlyList<SchemaError> Evaluate(JsonSchema schema, JsonElement schemaSource, JsonElement instance)
    {
        // Valid data, the common case, takes the short-circuiting Flag evaluation only.
        if (schema.Evaluate(instance, Fast).IsValid) return [];
        var errors = new List<SchemaError>();
        var results = schema.Evaluate(instance, Detailed);
        Collect(results, parent: null, results.SchemaLocation.GetLeftPart(UriPartial.Query), schemaSource, errors);
        return errors
            .DistinctBy(e => (e.Pointer, e.Keyword, e.Message))
            .OrderBy(e => e.Pointer, StringComparer.Ordinal)
            .ToList();
    }

    private static void Collect(EvaluationResults result, EvaluationResults? parent, string rootBase, JsonElement schemaSource, List<SchemaError> errors)
    {
        if (result.IsValid) return;
        string pointer = result.InstanceLocation.ToString();
        if (result.Errors is not null)
        {
            foreach (var (keyword, message) in result.Errors)
            {
                if (result.EvaluationPath.ToString().EndsWith("/additionalProperties", StringComparison.Ordinal))
                {
                    // The false schema of "additionalProperties" reports at the property; the object's schema
                    // (the parent's location; the false schema's own location is not reliable) lists what is allowed.
                    var allowed = parent is not null && Fragment(parent, rootBase) is string at ? JsonPointerText.Resolve(schemaSource, at) : null;
                    errors.Add(new SchemaError(pointer, keyword, message, Names(allowed, "properties") ?? []));
                    continue;
                }
                string text = message;
                if (keyword == "enum" && Fragment(result, rootBase) is string fragment && JsonPointerText.Resolve(schemaSource, fragment) is { } node
                    && node.ValueKind == JsonValueKind.Object && node.TryGetProperty("enum", out var values) && values.ValueKind == JsonValueKind.Array)
                    text = $"{message.TrimEnd('.')}: {string.Join(", ", values.EnumerateArray().Select(v => v.GetRawText()))}";
                errors.Add(new SchemaError(pointer, keyword, text, null));
            }
        }
        if (result.Details is not null)
            foreach (var child in result.Details) Collect(child, result, rootBase, schemaSource, errors);
    }

    /// <summary>The JSON pointer of a result's schema inside the evaluated schema's own document, or null when it lies elsewhere (e.g. a meta-schema).</summary>
    private static string? Fragment(EvaluationResults result, string rootBase) =>
        result.SchemaLocation.GetLeftPart(UriPartial.Query) == rootBase
            ? Uri.UnescapeDataString(result.SchemaLocation.Fragment.TrimStart('#'))
            : null;

    private static List<string>? Names(JsonElement? node, string property) =>
        node is { ValueKind: JsonValueKind.Object } n && n.TryGetProperty(property, out var p) && p.ValueKind == JsonValueKind.Object
            ? p.EnumerateObject().Select(x => x.Name).ToList()
            : null;
}
