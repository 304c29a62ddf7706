using System.Text.Json;
using System.Text.Json.Nodes;
using FcTrain.Data;
using FcTrain.Validation;
using Json.Schema;

namespace FcTrain.Evaluation;

/// <summary>The check of one call against the functions a case offers.</summary>
public sealed record CallCheck(bool KnownFunction, bool SchemaValid, IReadOnlyList<string> Errors)
{
    public bool Valid => KnownFunction && SchemaValid;
}

/// <summary>
/// Checks calls against the functions offered to the model: the name must be one of them and the
/// arguments must be valid for its <c>parameters</c> JSON Schema (draft 2020-12, JsonSchema.Net).
/// </summary>
public sealed class CallChecker
{
    private readonly Dictionary<string, (JsonSchema Schema, JsonElement Source)> _schemas = new(StringComparer.Ordinal);

    public CallChecker(IEnumerable<FunctionDefinition> offered)
    {
        // A registry of its own: parameter schemas may carry an $id, and the same function is offered in many cases.
        var build = new BuildOptions { SchemaRegistry = new SchemaRegistry() };
        foreach (FunctionDefinition f in offered)
        {
            if (_schemas.ContainsKey(f.Name)) continue;
            string text = f.Parameters.ToJsonString();
            _schemas[f.Name] = (JsonSchema.FromText(text, build), JsonDocument.Parse(text).RootElement.Clone());
        }
    }

    public IReadOnlyCollection<string> Offered => _schemas.Keys;

    public CallCheck Check(ParsedToolCall call)
    {
        if (!_schemas.TryGetValue(call.Name, out var schema))
            return new CallCheck(false, false, [$"'{call.Name}' is not one of the offered functions ({string.Join(", ", _schemas.Keys.Order(StringComparer.Ordinal))})"]);
        using JsonDocument instance = JsonDocument.Parse(call.Arguments.ToJsonString());
        IReadOnlyList<string> errors = SchemaErrors.Evaluate(schema.Schema, schema.Source, instance.RootElement)
            .Select(e => e.IsUnknownProperty
                ? $"{Where(e.Pointer)}: '{e.PropertyName}' is not a parameter here (allowed: {string.Join(", ", e.AllowedProperties!)}) (additionalProperties)"
                : $"{Where(e.Pointer)}: {e.Message} ({e.Keyword})")
            .ToList();
        return new CallCheck(true, errors.Count == 0, errors);
    }

    private static string Where(string pointer) => pointer.Length == 0 ? "arguments" : "arguments" + pointer;
}
