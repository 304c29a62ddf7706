using System.Text.Json;
using System.Text.RegularExpressions;

namespace FcTrain.Validation;

/// <summary>
/// Checks a function's <c>parameters</c> before the schema library compiles it, for what would make compiling or
/// evaluating it unsafe: a <c>$ref</c> that leaves the function (a URL, a file, another path: nothing is ever
/// fetched or read), references that loop back without reading any argument (a stack overflow), references that
/// expand beyond <see cref="MaxExpansion"/> schemas per value, and patterns that do not compile. The patterns are
/// kept, each with a one-second match timeout, to screen the arguments of every call (<see cref="FirstSlowMatch"/>).
/// </summary>
internal sealed class ParameterSchemaGuard
{
    public const int MaxExpansion = 10_000;
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromSeconds(1);

    // Keywords whose subschemas apply to the same value (no argument is read in between).
    private static readonly string[] InPlaceSingle = ["not", "if", "then", "else"];
    private static readonly string[] InPlaceArrays = ["allOf", "anyOf", "oneOf"];
    // Keywords whose values are data, not schemas: a "$ref" inside them is text.
    private static readonly HashSet<string> DataKeywords = ["const", "enum", "default", "examples"];

    private readonly Dictionary<string, JsonElement> _schemas = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _anchors = new(StringComparer.Ordinal);
    private readonly List<(string Pointer, string Message)> _refProblems = [];
    private readonly List<(string Pointer, string Message)> _schemaProblems = [];

    /// <summary>The patterns of the schema (<c>pattern</c> values and <c>patternProperties</c> names), compiled with a timeout.</summary>
    public IReadOnlyList<Regex> Patterns { get; }

    /// <summary>$refs that leave the function (FCT0018), by pointer relative to <c>parameters</c>.</summary>
    public IReadOnlyList<(string Pointer, string Message)> RefProblems => _refProblems;

    /// <summary>Loops, expansion, uncompilable patterns (FCT0011), by pointer relative to <c>parameters</c>.</summary>
    public IReadOnlyList<(string Pointer, string Message)> SchemaProblems => _schemaProblems;

    public bool IsSafe => _refProblems.Count == 0 && _schemaProblems.Count == 0;

    public ParameterSchemaGuard(JsonElement parameters, Func<string, bool> isRepositorySchema)
    {
        var patterns = new List<Regex>();
        Collect(parameters, "", patterns);
        Patterns = patterns;
        foreach (var (pointer, schema) in _schemas)
            if (schema.TryGetProperty("$ref", out var reference) && reference.ValueKind == JsonValueKind.String)
                CheckReference(pointer, reference.GetString()!, isRepositorySchema);
        if (_refProblems.Count == 0) CheckLoopsAndExpansion();
    }

    /// <summary>
    /// The first pattern that takes longer than <see cref="MatchTimeout"/> on a string or property name of
    /// <paramref name="arguments"/>: the pattern and the argument's JSON pointer; null when every match is quick.
    /// </summary>
    public (string Pattern, string Pointer)? FirstSlowMatch(JsonElement arguments)
    {
        if (Patterns.Count == 0) return null;
        foreach (var (pointer, text) in Strings(arguments, ""))
            foreach (var regex in Patterns)
            {
                try { regex.IsMatch(text); }
                catch (RegexMatchTimeoutException) { return (regex.ToString(), pointer); }
            }
        return null;
    }

    private static IEnumerable<(string Pointer, string Text)> Strings(JsonElement value, string pointer)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                yield return (pointer, value.GetString()!);
                break;
            case JsonValueKind.Object:
                foreach (var property in value.EnumerateObject())
                {
                    string at = $"{pointer}/{JsonPointerText.Escape(property.Name)}";
                    yield return (at, property.Name);
                    foreach (var inner in Strings(property.Value, at)) yield return inner;
                }
                break;
            case JsonValueKind.Array:
                int i = 0;
                foreach (var item in value.EnumerateArray())
                    foreach (var inner in Strings(item, $"{pointer}/{i++}")) yield return inner;
                break;
        }
    }

    /// <summary>Records every object in a schema position, its anchors and patterns.</summary>
    private void Collect(JsonElement node, string pointer, List<Regex> patterns)
    {
        if (node.ValueKind == JsonValueKind.Array)
        {
            int i = 0;
            foreach (var item in node.EnumerateArray()) Collect(item, $"{pointer}/{i++}", patterns);
            return;
        }
        if (node.ValueKind != JsonValueKind.Object) return;
        _schemas[pointer] = node;
        foreach (var property in node.EnumerateObject())
        {
            string at = $"{pointer}/{JsonPointerText.Escape(property.Name)}";
            switch (property.Name)
            {
                case var data when DataKeywords.Contains(data):
                    continue;
                case "$anchor" or "$dynamicAnchor" when property.Value.ValueKind == JsonValueKind.String:
                    _anchors.TryAdd(property.Value.GetString()!, pointer);
                    continue;
                case "$id" when pointer.Length > 0:
                    _refProblems.Add((at, "an embedded $id changes where references resolve; fctrain keeps every reference inside the function's parameters. Remove the $id."));
                    continue;
                case "$dynamicRef" or "$recursiveRef":
                    _refProblems.Add((at, $"{property.Name} is not supported in function parameters; use \"$ref\": \"#/$defs/…\"."));
                    continue;
                case "pattern" when property.Value.ValueKind == JsonValueKind.String:
                    AddPattern(property.Value.GetString()!, at, patterns);
                    continue;
                case "patternProperties" when property.Value.ValueKind == JsonValueKind.Object:
                    foreach (var p in property.Value.EnumerateObject()) AddPattern(p.Name, $"{at}/{JsonPointerText.Escape(p.Name)}", patterns);
                    break;
            }
            Collect(property.Value, at, patterns);
        }
    }

    private void AddPattern(string pattern, string pointer, List<Regex> patterns)
    {
        try { patterns.Add(new Regex(pattern, RegexOptions.CultureInvariant, MatchTimeout)); }
        catch (ArgumentException e)
        {
            _schemaProblems.Add((pointer, $"the pattern '{pattern}' is not a valid regular expression ({e.Message.TrimEnd('.')})."));
        }
    }

    private void CheckReference(string pointer, string reference, Func<string, bool> isRepositorySchema)
    {
        if (reference.StartsWith('#') || isRepositorySchema(reference)) return;
        string what = reference.StartsWith("http:", StringComparison.OrdinalIgnoreCase) || reference.StartsWith("https:", StringComparison.OrdinalIgnoreCase) ? "a URL"
            : reference.StartsWith("file:", StringComparison.OrdinalIgnoreCase) ? "a file: URL"
            : "another file";
        _refProblems.Add(($"{pointer}/$ref",
            $"the $ref '{reference}' points to {what}. A function's references stay inside its own file (\"#/$defs/…\") or name a schema of the repository by its $id; fctrain never fetches or reads anything else."));
    }

    /// <summary>In-place references (the same value, nothing read in between) must not loop, nor multiply beyond the bound.</summary>
    private void CheckLoopsAndExpansion()
    {
        var state = new Dictionary<string, bool>(StringComparer.Ordinal);   // false: on the path; true: done
        var expansion = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (string start in _schemas.Keys)
        {
            var stack = new Stack<(string Node, IEnumerator<string> Next)>();
            if (state.ContainsKey(start)) continue;
            state[start] = false;
            stack.Push((start, InPlace(start).GetEnumerator()));
            while (stack.Count > 0)
            {
                var (node, next) = stack.Peek();
                if (next.MoveNext())
                {
                    string child = next.Current;
                    if (!state.TryGetValue(child, out bool done))
                    {
                        state[child] = false;
                        stack.Push((child, InPlace(child).GetEnumerator()));
                    }
                    else if (!done)
                    {
                        _schemaProblems.Add((node,
                            $"the schema at {JsonPointerText.Show(child)} refers back to itself without reading any part of the arguments (an endless loop). Make each $ref lead to a schema of a property or an item."));
                        return;
                    }
                    continue;
                }
                stack.Pop();
                state[node] = true;
                long count = 1;
                foreach (string child in InPlace(node)) count = Math.Min(long.MaxValue / 2, count + expansion[child]);
                expansion[node] = count;
                if (count > MaxExpansion)
                {
                    _schemaProblems.Add((node, $"the references under {JsonPointerText.Show(node)} expand to more than {MaxExpansion:N0} schemas for one value, too many to evaluate. Share fewer nested allOf/anyOf/oneOf references."));
                    return;
                }
            }
        }
    }

    /// <summary>The subschemas that apply to the same value as the schema at <paramref name="pointer"/>.</summary>
    private IEnumerable<string> InPlace(string pointer)
    {
        var schema = _schemas[pointer];
        if (schema.TryGetProperty("$ref", out var reference) && reference.ValueKind == JsonValueKind.String
            && Target(reference.GetString()!) is { } target)
            yield return target;
        foreach (string keyword in InPlaceSingle)
            if (schema.TryGetProperty(keyword, out var single) && single.ValueKind == JsonValueKind.Object)
                yield return $"{pointer}/{keyword}";
        foreach (string keyword in InPlaceArrays)
            if (schema.TryGetProperty(keyword, out var array) && array.ValueKind == JsonValueKind.Array)
                for (int i = 0; i < array.GetArrayLength(); i++)
                    if (array[i].ValueKind == JsonValueKind.Object) yield return $"{pointer}/{keyword}/{i}";
        if (schema.TryGetProperty("dependentSchemas", out var dependent) && dependent.ValueKind == JsonValueKind.Object)
            foreach (var p in dependent.EnumerateObject())
                if (p.Value.ValueKind == JsonValueKind.Object) yield return $"{pointer}/dependentSchemas/{JsonPointerText.Escape(p.Name)}";
    }

    /// <summary>The schema a local reference names ("#", "#/json/pointer", "#anchor"), or null when it names none here.</summary>
    private string? Target(string reference)
    {
        if (!reference.StartsWith('#')) return null;
        string fragment = Uri.UnescapeDataString(reference[1..]);
        if (fragment.Length == 0 || fragment.StartsWith('/')) return _schemas.ContainsKey(fragment) ? fragment : null;
        return _anchors.GetValueOrDefault(fragment);
    }
}
