using System.Text.Json.Nodes;

namespace FcTrain.Interop;

/// <summary>
/// xLAM parameter dicts to JSON Schema. xLAM maps each argument to <c>{description, type, default?}</c> with Python
/// type names: <c>int</c> → integer, <c>str</c> → string, <c>float</c> → number, <c>bool</c> → boolean,
/// <c>List[T]</c>/<c>Tuple[…]</c>/<c>Set[T]</c> → array (typed items), <c>Dict[…]</c> → object, <c>Any</c> → any,
/// <c>Union[…]</c> → anyOf. A type ending in <c>, optional</c> or written <c>Optional[T]</c>, or an argument with a
/// default, is not required; the default is kept as the schema's <c>default</c>.
/// </summary>
public static class XlamTypes
{
    public static JsonObject Parameters(JsonObject arguments, string where)
    {
        var properties = new JsonObject();
        var required = new JsonArray();
        foreach (var (name, value) in arguments)
        {
            if (value is not JsonObject spec) throw new RecordException(ImportCodes.RecordShape, $"{where}: parameter '{name}' is not an object.");
            bool optional = spec.ContainsKey("default");
            JsonObject schema;
            if (spec["type"] is JsonValue t && t.TryGetValue(out string? type))
            {
                string text = type.Trim();
                foreach (string suffix in (ReadOnlySpan<string>)[", optional", ",optional", " optional"])
                    if (text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)) { text = text[..^suffix.Length].Trim(); optional = true; }
                if (Generic(text, "optional") is { } inner) { text = inner; optional = true; }
                schema = Schema(text, where, name);
            }
            else schema = [];
            if (spec["description"] is JsonValue d && d.TryGetValue(out string? description)) schema["description"] = description;
            if (spec.ContainsKey("default")) schema["default"] = spec["default"]?.DeepClone();
            properties[name] = schema;
            if (!optional) required.Add(name);
        }
        var parameters = new JsonObject { ["type"] = "object", ["properties"] = properties };
        if (required.Count > 0) parameters["required"] = required;
        return parameters;
    }

    /// <summary>The JSON Schema of one xLAM type name.</summary>
    public static JsonObject Schema(string type, string where, string parameter)
    {
        string t = type.Trim();
        switch (t.ToLowerInvariant())
        {
            case "int" or "integer": return Typed("integer");
            case "str" or "string": return Typed("string");
            case "float" or "number" or "double": return Typed("number");
            case "bool" or "boolean": return Typed("boolean");
            case "list" or "array" or "tuple" or "set": return Typed("array");
            case "dict" or "object" or "mapping": return Typed("object");
            case "any": return [];
        }
        foreach (string list in (ReadOnlySpan<string>)["list", "set", "sequence"])
            if (Generic(t, list) is { } item) return new JsonObject { ["type"] = "array", ["items"] = Schema(item, where, parameter) };
        if (Generic(t, "tuple") is { } items)
        {
            var parts = SplitTopLevel(items);
            return parts.Count == 2 && parts[1] == "..." ? new JsonObject { ["type"] = "array", ["items"] = Schema(parts[0], where, parameter) }
                : new JsonObject { ["type"] = "array", ["prefixItems"] = new JsonArray(parts.Select(p => (JsonNode?)Schema(p, where, parameter)).ToArray()) };
        }
        if (Generic(t, "dict") is not null || Generic(t, "mapping") is not null) return Typed("object");
        if (Generic(t, "union") is { } union)
            return new JsonObject { ["anyOf"] = new JsonArray(SplitTopLevel(union).Select(p => (JsonNode?)Schema(p, where, parameter)).ToArray()) };
        throw new RecordException(ImportCodes.UnknownType,
            $"{where}: parameter '{parameter}' has the type '{type}', which fctrain cannot map to JSON Schema (known: int, str, float, bool, List[T], Tuple[…], Set[T], Dict[K, V], Any, Union[…], Optional[T], \"…, optional\").");
    }

    private static JsonObject Typed(string type) => new() { ["type"] = type };

    /// <summary>The argument text of <c>Name[…]</c> (case-insensitive), else null.</summary>
    private static string? Generic(string type, string name) =>
        type.Length > name.Length + 2 && type.StartsWith(name + "[", StringComparison.OrdinalIgnoreCase) && type.EndsWith(']')
            ? type[(name.Length + 1)..^1].Trim() : null;

    private static List<string> SplitTopLevel(string text)
    {
        var parts = new List<string>();
        int depth = 0, start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '[') depth++;
            else if (text[i] == ']') depth--;
            else if (text[i] == ',' && depth == 0) { parts.Add(text[start..i].Trim()); start = i + 1; }
        }
        parts.Add(text[start..].Trim());
        return parts;
    }
}
