using System.Text.Json;
using Json.Schema;

namespace FcTrain.Validation;

public enum DataKind { Function, Conversation, Dataset }

/// <summary>
/// The JSON Schemas of the data files (schemas/*.v1.schema.json, embedded in this assembly so the
/// installed tool works in any repository), compiled once into one registry so cross-file $refs resolve.
/// </summary>
internal sealed class DataSchemas
{
    public static readonly DataSchemas V1 = new();

    private readonly Dictionary<DataKind, (JsonSchema Schema, JsonElement Source, string FileName, string Id)> _schemas = [];

    private DataSchemas()
    {
        // Nothing is ever fetched: a reference the registries do not hold is an error, not a download.
        SchemaRegistry.Global.Fetch = (_, _) => null;
        var options = new BuildOptions { SchemaRegistry = new SchemaRegistry { Fetch = (_, _) => null } };
        foreach (var (kind, fileName) in new[]
                 {
                     (DataKind.Function, "function.v1.schema.json"),
                     (DataKind.Conversation, "conversation.v1.schema.json"),
                     (DataKind.Dataset, "dataset.v1.schema.json"),
                 })
        {
            using var stream = typeof(DataSchemas).Assembly.GetManifestResourceStream($"schemas/{fileName}")
                ?? throw new InvalidOperationException($"embedded schema {fileName} is missing from the build");
            var source = JsonDocument.Parse(stream).RootElement.Clone();
            var schema = JsonSchema.Build(source, options);
            _schemas[kind] = (schema, source, fileName, source.GetProperty("$id").GetString()!);
        }
    }

    public JsonSchema Schema(DataKind kind) => _schemas[kind].Schema;

    public JsonElement Source(DataKind kind) => _schemas[kind].Source;

    /// <summary>The schema's file name under schemas/, e.g. conversation.v1.schema.json.</summary>
    public string FileName(DataKind kind) => _schemas[kind].FileName;

    /// <summary>Whether a <c>$ref</c> names one of these schemas by its <c>$id</c> (with or without a fragment).</summary>
    public bool IsRepositorySchema(string reference)
    {
        int hash = reference.IndexOf('#');
        string id = hash < 0 ? reference : reference[..hash];
        return _schemas.Values.Any(s => s.Id == id);
    }

    /// <summary>A registry for one function's parameters: it holds the repository's schemas and fetches nothing.</summary>
    public SchemaRegistry LocalRegistry()
    {
        var registry = new SchemaRegistry { Fetch = (_, _) => null };
        foreach (var (schema, _, _, _) in _schemas.Values) registry.Register(schema);
        return registry;
    }

    /// <summary>Whether a file's <c>$schema</c> names this schema: by its relative path (file name) or by its <c>$id</c>.</summary>
    public bool IsNamedBy(DataKind kind, string value) =>
        value == _schemas[kind].Id || value.Replace('\\', '/').Split('/')[^1] == _schemas[kind].FileName;
}
