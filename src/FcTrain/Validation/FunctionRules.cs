using System.Text.Json;
using FcTrain.Data;
using FcTrain.Diagnostics;
using Json.Schema;

namespace FcTrain.Validation;

/// <summary>
/// A function with its <c>parameters</c> compiled once, to check the arguments of every call to it
/// (<see cref="Arguments"/> is null when they do not compile). Valid: no problem found in its file.
/// </summary>
internal sealed record CompiledFunction(FunctionDefinition Definition, JsonRecord Record, JsonSchema? Arguments, JsonElement ParametersSource, bool Valid);

/// <summary>Rules of one function file beyond its schema: <c>parameters</c> must compile and be coherent.</summary>
internal static class FunctionRules
{
    public static CompiledFunction Compile(FunctionDefinition function, JsonRecord record, JsonElement root, bool clean, ICollection<Diagnostic> diagnostics)
    {
        var parameters = root.GetProperty("parameters").Clone();
        JsonSchema? schema = null;
        try
        {
            // A registry of its own: functions may reuse $id or $defs names without clashing.
            schema = JsonSchema.Build(parameters, new BuildOptions { SchemaRegistry = new SchemaRegistry() });
        }
        catch (Exception e) when (e is JsonSchemaException or RefResolutionException or JsonException or ArgumentException or InvalidOperationException)
        {
            diagnostics.Add(record.Error("/parameters", DiagnosticCodes.InvalidParametersSchema,
                $"'parameters' cannot be compiled as a JSON Schema: {e.Message.TrimEnd('.')}. Fix the reference or keyword it names."));
        }
        if (parameters.TryGetProperty("required", out var required) && required.ValueKind == JsonValueKind.Array)
        {
            var properties = parameters.TryGetProperty("properties", out var p) && p.ValueKind == JsonValueKind.Object
                ? p.EnumerateObject().Select(x => x.Name).ToHashSet(StringComparer.Ordinal)
                : [];
            int i = 0;
            foreach (var name in required.EnumerateArray())
            {
                if (name.ValueKind == JsonValueKind.String && !properties.Contains(name.GetString()!))
                {
                    diagnostics.Add(record.Error($"/parameters/required/{i}", DiagnosticCodes.InvalidParametersSchema,
                        $"'{name.GetString()}' is required but not declared under 'properties', so the model is never told what it is. Declare it or drop it from 'required'."));
                    schema = null;
                }
                i++;
            }
        }
        return new CompiledFunction(function, record, schema, parameters, clean && schema is not null);
    }
}
