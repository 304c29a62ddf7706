using System.Text.Json;
using System.Text.Json.Nodes;
using FcTrain.Data;
using Json.Schema;

namespace FcTrain.Validation;

/// <summary>
/// The check of FCT0010 for one function of a loaded dataset, usable on calls written against another version of
/// it: the same compiled <c>parameters</c>, the same pattern screen, the same schema evaluation.
/// </summary>
public sealed class ArgumentCheck
{
    private readonly string _name;
    private readonly JsonElement _source;
    private readonly ParameterSchemaGuard _guard;
    private readonly JsonSchema? _schema;

    /// <param name="function">A function of a loaded dataset (its parameters compiled there without a problem).</param>
    public ArgumentCheck(FunctionDefinition function)
    {
        _name = function.Name;
        _source = JsonSerializer.SerializeToElement(function.Parameters);
        _guard = new ParameterSchemaGuard(_source, DataSchemas.V1.IsRepositorySchema);
        _schema = _guard.IsSafe ? FunctionRules.BuildSchema(_source) : null;
    }

    /// <summary>
    /// Why a call of this function with <paramref name="arguments"/> fails its parameters: one problem per failed
    /// keyword, at its JSON pointer inside the arguments ("" for the arguments object); empty when the call passes.
    /// </summary>
    public IReadOnlyList<(string Pointer, string Problem)> Problems(JsonObject arguments)
    {
        if (_schema is null) return [("", $"the parameters of '{_name}' do not compile")];
        var element = JsonSerializer.SerializeToElement(arguments);
        if (_guard.FirstSlowMatch(element) is var (pattern, at))
            return [(at, $"the pattern '{pattern}' took more than {ParameterSchemaGuard.MatchTimeout.TotalSeconds:0} s to match")];
        return SchemaErrors.Evaluate(_schema, _source, element)
            .Select(e => (e.Pointer, e.IsUnknownProperty ? $"unknown argument '{e.PropertyName}'" : e.Message.TrimEnd('.')))
            .Distinct()
            .ToList();
    }
}
