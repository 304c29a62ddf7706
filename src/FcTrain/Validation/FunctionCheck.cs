using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FcTrain.Data;
using FcTrain.Diagnostics;
using Json.Schema;

namespace FcTrain.Validation;

/// <summary>A function and its <c>parameters</c> compiled once, to check the arguments of every call to it.</summary>
internal sealed record CompiledFunction(FunctionDefinition Definition, JsonSchema? Arguments, JsonElement Parameters, JsonSource Source);

/// <summary>Reads one function file: its schema, then its <c>parameters</c> as a JSON Schema of its own.</summary>
internal static partial class FunctionCheck
{
    // Draft 2020-12 with unknown keywords refused, so "requried" or "enums" in parameters is caught, not ignored.
    private static readonly Dialect Strict = Dialect.Draft202012.With([], new Uri("https://fctrain.dev/dialects/strict-2020-12"), allowUnknownKeywords: false);

    public static CompiledFunction? Read(JsonSource source, JsonElement root, List<Diagnostic> diagnostics)
    {
        var schema = SchemaCheck.Instance;
        schema.CheckSchemaReference(source, root, SchemaKind.Function, required: true, diagnostics);
        if (!schema.Report(source, SchemaKind.Function, root, diagnostics)) return null;

        string name = root.GetProperty("name").GetString()!;
        JsonElement parameters = root.GetProperty("parameters");
        var definition = new FunctionDefinition(name, root.GetProperty("description").GetString()!,
            JsonObject.Create(parameters)!, new SourceSpan(source.File));
        return new CompiledFunction(definition, CompileParameters(source, parameters, diagnostics), parameters, source);
    }

    /// <summary>The compiled arguments schema, or null (with FCT0012) when <c>parameters</c> is not a valid JSON Schema.</summary>
    private static JsonSchema? CompileParameters(JsonSource source, JsonElement parameters, List<Diagnostic> diagnostics)
    {
        var problems = SchemaCheck.Check(MetaSchemas.Draft202012, default, parameters);
        foreach (var problem in problems)
            diagnostics.Add(source.Error("/parameters" + problem.Pointer, DiagnosticCodes.InvalidParametersSchema,
                $"'parameters' is not a valid JSON Schema (draft 2020-12): {problem.Message}. Fix this keyword; see https://json-schema.org/understanding-json-schema/."));
        if (problems.Count > 0) return null;
        try
        {
            return JsonSchema.Build(parameters, new BuildOptions { SchemaRegistry = new SchemaRegistry(), Dialect = Strict });
        }
        catch (Exception e) when (e is JsonSchemaException or ArgumentException or RefResolutionException)
        {
            string pointer = "/parameters";
            if (UnknownKeywords().Match(e.Message) is { Success: true } m)
            {
                string first = m.Groups[1].Value.Split(',')[0].Trim();
                pointer = source.FindPointer(p => p.StartsWith("/parameters", StringComparison.Ordinal) && p.EndsWith("/" + JsonSource.Escape(first), StringComparison.Ordinal)) ?? pointer;
                diagnostics.Add(source.Error(pointer, DiagnosticCodes.InvalidParametersSchema,
                    $"'parameters' uses the unknown JSON Schema keyword(s) {m.Groups[1].Value}, which a validator would silently ignore. Fix the spelling (e.g. required, enum, properties) or remove it.", atName: true));
            }
            else
            {
                diagnostics.Add(source.Error(pointer, DiagnosticCodes.InvalidParametersSchema,
                    $"'parameters' could not be compiled as a JSON Schema: {e.Message.TrimEnd('.')}. Fix the schema (a regular expression in 'pattern' must be valid .NET/ECMAScript syntax; a $ref must point inside the schema)."));
            }
            return null;
        }
    }

    [GeneratedRegex(@"Unknown keywords \(([^)]*)\)")]
    private static partial Regex UnknownKeywords();
}
