using System.Text.Json;
using FcTrain.Data;
using FcTrain.Diagnostics;
using Json.Schema;

namespace FcTrain.Validation;

/// <summary>
/// A function with its <c>parameters</c> compiled once, to check the arguments of every call to it
/// (<see cref="Arguments"/> is null when they do not compile; <see cref="Guard"/> screens arguments against its
/// patterns with a timeout first). Valid: no problem found in its file.
/// </summary>
internal sealed record CompiledFunction(FunctionDefinition Definition, JsonRecord Record, JsonSchema? Arguments, JsonElement ParametersSource,
    ParameterSchemaGuard Guard, bool Valid);

/// <summary>Rules of one function file beyond its schema: <c>parameters</c> must compile safely and be coherent.</summary>
internal static class FunctionRules
{
    public static CompiledFunction Compile(FunctionDefinition function, JsonRecord record, JsonElement root, bool clean, ICollection<Diagnostic> diagnostics)
    {
        var parameters = root.GetProperty("parameters").Clone();
        var guard = new ParameterSchemaGuard(parameters, DataSchemas.V1.IsRepositorySchema);
        foreach (var (pointer, message) in guard.RefProblems)
            diagnostics.Add(record.Error($"/parameters{pointer}", DiagnosticCodes.RefOutsideFile, message));
        foreach (var (pointer, message) in guard.SchemaProblems)
            diagnostics.Add(record.Error($"/parameters{pointer}", DiagnosticCodes.InvalidParametersSchema,
                $"'parameters' is not a usable JSON Schema: {message}"));
        JsonSchema? schema = guard.IsSafe ? Build(parameters, record, diagnostics) : null;
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
        return new CompiledFunction(function, record, schema, parameters, guard, clean && schema is not null);
    }

    /// <summary>Compiles <c>parameters</c> in a registry of its own: functions may reuse <c>$id</c> or <c>$defs</c> names
    /// without clashing. It knows the repository's schemas and fetches nothing.</summary>
    internal static JsonSchema BuildSchema(JsonElement parameters) =>
        JsonSchema.Build(parameters, new BuildOptions { SchemaRegistry = DataSchemas.V1.LocalRegistry() });

    private static JsonSchema? Build(JsonElement parameters, JsonRecord record, ICollection<Diagnostic> diagnostics)
    {
        try
        {
            return BuildSchema(parameters);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The schema library compiling a user's schema: any failure it raises is a fault of that schema.
            diagnostics.Add(record.Error("/parameters", DiagnosticCodes.InvalidParametersSchema,
                $"'parameters' cannot be compiled as a JSON Schema: {(e is AggregateException a ? a.InnerExceptions[0] : e).Message.TrimEnd('.')}. Fix the reference or keyword it names."));
            return null;
        }
    }
}
