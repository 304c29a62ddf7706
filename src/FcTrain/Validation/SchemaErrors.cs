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
        Collect(schema.Evaluate(instance, Detailed), schemaSource, errors);
        return errors
            .DistinctBy(e => (e.Pointer, e.Keyword, e.Message))
            .OrderBy(e => e.Pointer, StringComparer.Ordinal)
            .ToList();
    }

    private static void Collect(EvaluationResults result, JsonElement schemaSource, List<SchemaError> errors)
    {
        if (result.IsValid) return;
        string pointer = result.InstanceLocation.ToString();
        if (result.Errors is not null)
        {
            foreach (var (keyword, message) in result.Errors)
            {
                string fragment = Uri.UnescapeDataString(result.SchemaLocation.Fragment.TrimStart('#'));
                IReadOnlyList<string>? allowed = fragment.EndsWith("/additionalProperties", StringComparison.Ordinal)
                    ? PropertiesAt(schemaSource, fragment[..^"/additionalProperties".Length])
                    : null;
                errors.Add(new SchemaError(pointer, keyword, message, allowed));
            }
        }
        if (result.Details is not null)
            foreach (var child in result.Details) Collect(child, schemaSource, errors);
    }

    /// <summary>The names under "properties" of the subschema at <paramref name="fragment"/>, when it is in <paramref name="schemaSource"/>.</summary>
    private static IReadOnlyList<string> PropertiesAt(JsonElement schemaSource, string fragment)
    {
        JsonElement node = schemaSource;
        foreach (string token in fragment.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            string name = JsonPointerText.Unescape(token);
            if (node.ValueKind == JsonValueKind.Object && node.TryGetProperty(name, out var next)) node = next;
            else if (node.ValueKind == JsonValueKind.Array && int.TryParse(name, out int i) && i < node.GetArrayLength()) node = node[i];
            else return [];
        }
        return node.ValueKind == JsonValueKind.Object && node.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object
            ? properties.EnumerateObject().Select(p => p.Name).ToList()
            : [];
    }
}
